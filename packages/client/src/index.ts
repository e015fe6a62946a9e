// @strata/client: a typed client for the Strata API. The types come from the
// server's OpenAPI document (src/generated/openapi.ts, made by the build).
export type {
  ErrorBody,
  ErrorBodyIn,
  ErrorCode,
  ErrorCodeIn,
  ErrorCodeOf,
  ErrorDetails,
  ListItem,
  ListPath,
  ListPathIn,
  Operation,
  paths,
  RequestBody,
  ResponseBody,
  Suggestion,
} from "./api-types.ts";
export type { AuthHelpers } from "./auth.ts";
export type { FetchFunction } from "./auth-fetch.ts";
export { createStrataClient, type StrataClient, type StrataClientOptions } from "./client.ts";
export { type ClientErrorCode, isStrataError, StrataError, unwrap } from "./errors.ts";
export type { ListArgs, ListInit, Paginators } from "./pagination.ts";
export type { StreamOptions, SuggestionEvent, SuggestionRequest } from "./suggestion-stream.ts";
export { memoryTokenStore, type StrataSession, type TokenStore } from "./tokens.ts";
