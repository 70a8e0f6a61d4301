//! gzip on the calling thread, in the same shape as the parallel
//! compressor's output: the input cut into blocks, each compressed by
//! libdeflate into a standard gzip member of its own.

use std::io::{self, Write};

use libdeflater::{CompressionLvl, Compressor};

/// Compresses blocks of `block` bytes into gzip members written to `inner`.
pub(super) struct GzipBlocks<W: Write> {
    inner: W,
    compressor: Compressor,
    block: usize,
    input: Vec<u8>,
    output: Vec<u8>,
}

impl<W: Write> GzipBlocks<W> {
    /// Fails for a level libdeflate does not have (0 to 12).
    pub(super) fn new(inner: W, level: u32, block: usize) -> io::Result<GzipBlocks<W>> {
        let level = CompressionLvl::new(level as i32)
            .map_err(|e| io::Error::other(format!("gzip level {level}: {e:?}")))?;
        let mut compressor = Compressor::new(level);
        let output = vec![0; compressor.gzip_compress_bound(block)];
        Ok(GzipBlocks {
            inner,
            compressor,
            block,
            input: Vec::with_capacity(block),
            output,
        })
    }

    /// Compresses and writes what is buffered (nothing if empty).
    fn compress_buffered(&mut self) -> io::Result<()> {
        if self.input.is_empty() {
            return Ok(());
        }
        let n = self
            .compressor
            .gzip_compress(&self.input, &mut self.output)
            .map_err(|e| io::Error::other(format!("gzip: {e:?}")))?;
        self.input.clear();
        self.inner.write_all(&self.output[..n])
    }

    /// Writes the last block and returns the inner writer. An empty input
    /// still makes one (empty) member, so the stream is valid gzip.
    pub(super) fn finish(mut self) -> io::Result<W> {
        if self.input.is_empty() {
            let n = self
                .compressor
                .gzip_compress(&[], &mut self.output)
                .map_err(|e| io::Error::other(format!("gzip: {e:?}")))?;
            self.inner.write_all(&self.output[..n])?;
        }
        self.compress_buffered()?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for GzipBlocks<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf.len().min(self.block - self.input.len());
        self.input.extend_from_slice(&buf[..n]);
        if self.input.len() == self.block {
            self.compress_buffered()?;
        }
        Ok(n)
    }

    /// Ends the current block early (costing a little compression) and
    /// flushes the inner writer.
    fn flush(&mut self) -> io::Result<()> {
        self.compress_buffered()?;
        self.inner.flush()
    }
}
