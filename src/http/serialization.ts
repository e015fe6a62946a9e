import { SerializerSelector } from "@fastify/fast-json-stringify-compiler";

type SerializerFactory = ReturnType<typeof SerializerSelector>;

/**
 * Fastify's own response serializers (fast-json-stringify, with the shared
 * schemas), compiled on a route's first response instead of when the server
 * starts. Compiling every route's response schemas up front was a large
 * share of a start's CPU; a route's first response now pays it once.
 */
export const lazySerializerFactory: SerializerFactory = (externalSchemas, options) => {
  const compile = SerializerSelector()(externalSchemas, options);
  return (route) => {
    let serialize: ((doc: unknown) => string) | null = null;
    return (doc) => {
      serialize ??= compile(route);
      return serialize(doc);
    };
  };
};
