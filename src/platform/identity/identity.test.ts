import { identityContract } from "../../../test/contract/identity.contract.ts";
import { openTestPlatform } from "../../../test/support/embedded.ts";

identityContract("embedded (PGlite, in-process store)", () => openTestPlatform({ REFRESH_REUSE_GRACE_SECONDS: "1" }));
