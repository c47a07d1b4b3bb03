//! A fake Looker API 4.0 server.
