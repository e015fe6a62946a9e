import { after, before } from "node:test";
import { blobStoreContract } from "../../../test/contract/blob-store.contract.ts";
import { startS3Server } from "../../../test/support/s3.ts";
import { S3BlobStore } from "./s3-blob-store.ts";

let s3: Awaited<ReturnType<typeof startS3Server>>;
before(async () => {
  s3 = await startS3Server();
});
after(async () => {
  await s3.stop();
});

blobStoreContract(
  "s3 (s3rver)",
  () =>
    S3BlobStore.open({
      driver: "s3",
      bucket: s3.bucket,
      endpoint: s3.endpoint,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
    }),
  {
    // s3rver keeps its own time (it does refuse expired links), and checks no signature.
    passTime: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    acceptsForgedSignatures: "s3rver, the local S3 test server, accepts any V4 signature",
  },
);
