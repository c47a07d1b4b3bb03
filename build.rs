//! Compiles proto/ into Rust with a vendored protoc and writes the descriptor set
//! that server reflection serves.

use std::path::{Path, PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    // SAFETY: build scripts are single-threaded; prost-build reads PROTOC.
    unsafe { std::env::set_var("PROTOC", protoc) };

    let proto_root = Path::new("proto");
    let mut protos = Vec::new();
    collect_protos(proto_root, &mut protos)?;
    protos.sort();
    println!("cargo:rerun-if-changed={}", proto_root.display());
    for proto in &protos {
        println!("cargo:rerun-if-changed={}", proto.display());
    }

    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    tonic_prost_build::configure()
        .file_descriptor_set_path(out_dir.join("kpilink_descriptor.bin"))
        // Messages that carry secrets get a hand-written, redacting Debug (src/proto.rs).
        .skip_debug([
            "kpilink.v1.Connection",
            "kpilink.v1.CreateConnectionRequest",
            "kpilink.v1.UpdateConnectionRequest",
        ])
        .compile_protos(&protos, &[proto_root.to_path_buf()])?;
    Ok(())
}

fn collect_protos(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_protos(&path, out)?;
        } else if path.extension().is_some_and(|ext| ext == "proto") {
            out.push(path);
        }
    }
    Ok(())
}
