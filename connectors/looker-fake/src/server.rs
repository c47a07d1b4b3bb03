//! The accept loop. It serves HTTP/1.1 with hyper directly (rather than `axum::serve`) so a
//! fault can close a connection without answering: the handler flags the connection, the
//! connection task drops it, and the socket closes with SO_LINGER 0, i.e. a TCP reset.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use axum::Router;
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tower::ServiceExt;

/// Lets a request handler abort its own connection.
#[derive(Default)]
pub(crate) struct ConnectionHandle {
    reset: AtomicBool,
    notify: Notify,
}

impl ConnectionHandle {
    pub(crate) fn reset(&self) {
        self.reset.store(true, Ordering::SeqCst);
        self.notify.notify_one();
    }
}

/// A TCP stream that, when dropped after `reset()`, closes with a RST instead of a FIN.
struct ResettableStream {
    inner: TcpStream,
    handle: Arc<ConnectionHandle>,
}

impl Drop for ResettableStream {
    fn drop(&mut self) {
        if self.handle.reset.load(Ordering::SeqCst) {
            let _ = self.inner.set_zero_linger();
        }
    }
}

impl AsyncRead for ResettableStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for ResettableStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(error) => {
                    // E.g. too many open files: keep serving the connections we have.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => return,
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(connection(stream, router.clone(), shutdown.clone()));
    }
}

async fn connection(stream: TcpStream, router: Router, mut shutdown: watch::Receiver<bool>) {
    let handle = Arc::new(ConnectionHandle::default());
    let io = TokioIo::new(ResettableStream {
        inner: stream,
        handle: handle.clone(),
    });
    let request_handle = handle.clone();
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(request_handle.clone());
        let router = router.clone();
        async move {
            Ok::<_, Infallible>(
                router
                    .oneshot(request.map(axum::body::Body::new))
                    .await
                    .unwrap_or_else(|e| match e {}),
            )
        }
    });
    let conn = hyper::server::conn::http1::Builder::new().serve_connection(io, service);
    tokio::select! {
        result = conn => {
            if let Err(error) = result {
                tracing::debug!(%error, "connection ended with an error");
            }
        }
        _ = handle.notify.notified() => tracing::debug!("connection reset by fault injection"),
        _ = shutdown.changed() => {}
    }
}

/// A response body made of a head, `count` copies of a chunk, and a tail (oversized faults).
pub(crate) struct ChunkedBody {
    head: Option<Bytes>,
    chunk: Bytes,
    remaining: u64,
    tail: Option<Bytes>,
}

impl ChunkedBody {
    pub(crate) fn new(head: Bytes, chunk: Bytes, count: u64, tail: Bytes) -> Self {
        ChunkedBody {
            head: Some(head),
            chunk,
            remaining: count,
            tail: Some(tail),
        }
    }
}

impl Body for ChunkedBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if let Some(head) = self.head.take() {
            return Poll::Ready(Some(Ok(Frame::data(head))));
        }
        if self.remaining > 0 {
            self.remaining -= 1;
            return Poll::Ready(Some(Ok(Frame::data(self.chunk.clone()))));
        }
        Poll::Ready(self.tail.take().map(|t| Ok(Frame::data(t))))
    }

    fn size_hint(&self) -> SizeHint {
        let total = self.head.as_ref().map_or(0, Bytes::len) as u64
            + self.remaining * self.chunk.len() as u64
            + self.tail.as_ref().map_or(0, Bytes::len) as u64;
        SizeHint::with_exact(total)
    }
}
