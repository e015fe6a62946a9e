import { after, before } from "node:test";
import type { KvStore } from "../../src/platform/kv/kv-store.ts";

/**
 * Opens a key-value store before a suite's tests and, after them, deletes
 * the keys they left and closes it. `open` must give a store whose key
 * prefix is unique to the run, so runs on a shared Redis never meet.
 */
export function kvStoreForSuite(open: () => Promise<KvStore>): () => KvStore {
  let kv: KvStore | null = null;
  before(async () => {
    kv = await open();
  });
  after(async () => {
    if (!kv) return;
    for await (const key of kv.scan("")) await kv.del(key);
    await kv.close();
  });
  return () => {
    if (!kv) throw new Error("the store opens before the suite's first test");
    return kv;
  };
}
