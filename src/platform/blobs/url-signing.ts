import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Time-limited download links for the filesystem store, which has no S3 to
 * presign for it. The API serves them at /v1/blob-downloads; the signature
 * covers the key, the expiry and the suggested file name, so none can be
 * changed without invalidating the link.
 */
export interface SignedDownload {
  key: string;
  expires: number;
  downloadName: string | null;
}

export function signDownload(secret: string, download: SignedDownload): string {
  return createHmac("sha256", secret)
    .update(`${download.key}\n${download.expires}\n${download.downloadName ?? ""}`)
    .digest("base64url");
}

/** `nowSeconds`: the time to judge the expiry by, in whole seconds since the epoch. */
export function verifyDownload(
  secret: string,
  download: SignedDownload,
  signature: string,
  nowSeconds: number,
): "valid" | "invalid" | "expired" {
  const expected = Buffer.from(signDownload(secret, download));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return "invalid";
  return download.expires < nowSeconds ? "expired" : "valid";
}

/** `expires`: the moment the link stops working, in whole seconds since the epoch. */
export function downloadUrl(publicUrl: string, secret: string, key: string, expires: number, downloadName?: string) {
  const download: SignedDownload = { key, expires, downloadName: downloadName ?? null };
  const params = new URLSearchParams({ key, expires: String(download.expires) });
  if (downloadName) params.set("name", downloadName);
  params.set("signature", signDownload(secret, download));
  return `${publicUrl}/v1/blob-downloads?${params}`;
}
