/**
 * The change both sides of the fan-out benchmark send (Strata's server
 * records it, the bare ws peer broadcasts it as Strata would frame it):
 * about 400 bytes of JSON, a knowledge rule's size.
 */
export function fanoutChange(i: number) {
  return {
    topic: "knowledge",
    subject: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
    event: "rule.updated",
    data: {
      kind: "rule",
      entry: {
        key: `bench-${i}`,
        title: "Await, return or explicitly handle every promise",
        severity: "ERROR",
        enforcement: "mandatory",
        category: "typescript",
        description: "A promise nobody awaits loses its rejection; await it, return it, or catch and log it.",
      },
    },
  };
}
