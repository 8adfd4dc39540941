// Module decompression chosen by magic bytes, as libkmod-file.c does (kmod_file_open: zstd
// 28 B5 2F FD, xz FD 37 7A 58 5A 00, gzip 1F 8B, else a plain ELF). The only pure-core file
// allowed to import node:zlib. zstd (fzstd) and gzip are synchronous; xz (xz-decompress, WASM
// streams) is asynchronous, so `decompressModule` is async and `decompressModuleSync` refuses xz.
import { gunzipSync } from "node:zlib";
import { decompress as zstdDecompress } from "fzstd";
import xzPkg from "xz-decompress";
import { KbindError } from "../model/errors.ts";

export type Compression = "zstd" | "xz" | "gzip" | "none";

export function detectCompression(b: Uint8Array): Compression {
  if (b.length >= 4 && b[0] === 0x28 && b[1] === 0xb5 && b[2] === 0x2f && b[3] === 0xfd) return "zstd";
  if (b.length >= 6 && b[0] === 0xfd && b[1] === 0x37 && b[2] === 0x7a && b[3] === 0x58 && b[4] === 0x5a && b[5] === 0x00) return "xz";
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return "gzip";
  return "none";
}

function failed(kind: Compression, file: string, e: unknown): KbindError {
  return new KbindError("BAD_COMPRESSED_MODULE", `${file}: ${kind} decompression failed: ${e instanceof Error ? e.message : String(e)}`, { file, offset: 0 });
}

export function decompressModuleSync(b: Uint8Array, file = "module"): Uint8Array {
  const kind = detectCompression(b);
  try {
    if (kind === "zstd") return zstdDecompress(b);
    if (kind === "gzip") return new Uint8Array(gunzipSync(b));
  } catch (e) {
    throw failed(kind, file, e);
  }
  if (kind === "xz") throw new KbindError("XZ_NEEDS_ASYNC", `${file}: xz modules need the asynchronous decompressor`, { file, offset: 0 });
  return b;
}

interface XzModule {
  XzReadableStream: new (s: ReadableStream<Uint8Array>) => ReadableStream<Uint8Array>;
}

export async function decompressModule(b: Uint8Array, file = "module"): Promise<Uint8Array> {
  if (detectCompression(b) !== "xz") return decompressModuleSync(b, file);
  const { XzReadableStream } = xzPkg as unknown as XzModule;
  try {
    const input = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(b);
        c.close();
      },
    });
    return new Uint8Array(await new Response(new XzReadableStream(input)).arrayBuffer());
  } catch (e) {
    throw failed("xz", file, e);
  }
}
