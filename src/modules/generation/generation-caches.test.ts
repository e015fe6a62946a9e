import { generationCachesContract } from "../../../test/contract/generation-caches.contract.ts";
import { openTestPlatform } from "../../../test/support/embedded.ts";

generationCachesContract("embedded (PGlite, in-process store)", () => openTestPlatform());
