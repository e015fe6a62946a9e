import { randomUUID } from "node:crypto";

/** A multipart/form-data body holding one file part, as a browser's form upload sends it. */
export function multipartFile(
  file: { filename: string; contentType?: string; content: Uint8Array | string },
  field = "file",
): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----strata${randomUUID().replace(/-/g, "")}`;
  const head =
    `--${boundary}\r\n` +
    `Content-Disposition: form-data; name="${field}"; filename="${file.filename}"\r\n` +
    (file.contentType ? `Content-Type: ${file.contentType}\r\n` : "") +
    "\r\n";
  const payload = Buffer.concat([Buffer.from(head), Buffer.from(file.content), Buffer.from(`\r\n--${boundary}--\r\n`)]);
  return { payload, headers: { "content-type": `multipart/form-data; boundary=${boundary}` } };
}

/** Uploads one file to /v1/files as `token` through the app, as multipart; the status and the parsed body. */
export async function uploadFile(
  app: { inject: (options: any) => Promise<{ statusCode: number; json: () => any; body: string }> },
  token: string,
  file: { filename: string; contentType?: string; content: Uint8Array | string },
): Promise<{ status: number; body: any }> {
  const { payload, headers } = multipartFile(file);
  const res = await app.inject({
    method: "POST",
    url: "/v1/files",
    payload,
    headers: { ...headers, authorization: `Bearer ${token}` },
  });
  return { status: res.statusCode, body: res.json() };
}
