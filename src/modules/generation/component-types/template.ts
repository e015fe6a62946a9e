import { type ComponentPlugin, type FilledSection, PermanentComponentError } from "./plugin.ts";

interface StoredSection {
  id: string;
  type: "text" | "sections";
  name: string;
  instructions?: string | null;
  word_range?: [number, number];
  min_sections?: number;
  max_sections?: number;
  section_template?: { instructions?: string | null; word_range: [number, number] };
}

/**
 * The template component: lays out the template's sections for the context.
 * The template is the config's template_key (seed 001's pipeline override
 * calls it template_id), else the context's data.template_key; its latest
 * active version is used. Instructions' {placeholders} are filled from the
 * context's data (`{title}`, `{keywords}`: lists are joined with commas);
 * a repeated section gets data.section_counts[id] instances, else one per
 * keyword, held between its min_sections and max_sections.
 */
export const templateComponent: ComponentPlugin = {
  type: "template",
  async run({ context, config, db, state }) {
    const key = config.template_key ?? config.template_id ?? context.data.template_key;
    if (typeof key !== "string") {
      throw new PermanentComponentError("template_not_found", "the template component names no template_key");
    }
    const template = await db
      .selectFrom("generation_templates")
      .select(["template_key", "version", "sections"])
      .where("organization_id", "=", context.organizationId)
      .where("template_key", "=", key)
      .where("is_active", "=", true)
      .orderBy("version", "desc")
      .limit(1)
      .executeTakeFirst();
    if (!template) throw new PermanentComponentError("template_not_found", `no active template ${key}`);
    const sections: FilledSection[] = [];
    for (const section of template.sections as StoredSection[]) {
      if (section.type === "text") {
        sections.push({
          id: section.id,
          name: section.name,
          instructions: fill(section.instructions ?? null, context.data),
          word_range: section.word_range ?? [0, 0],
        });
        continue;
      }
      const count = instances(section, context.data);
      for (let i = 1; i <= count; i++) {
        sections.push({
          id: `${section.id}_${i}`,
          name: `${section.name} ${i}`,
          instructions: fill(section.section_template?.instructions ?? null, context.data, i),
          word_range: section.section_template?.word_range ?? [0, 0],
          part_of: section.id,
        });
      }
    }
    const title = typeof context.data.title === "string" ? context.data.title : null;
    return { state: { ...state, template: { id: template.template_key, version: template.version, title, sections } } };
  },
};

function instances(section: StoredSection, data: Record<string, unknown>): number {
  const min = section.min_sections ?? 1;
  const max = section.max_sections ?? min;
  const counts = data.section_counts as Record<string, unknown> | undefined;
  const asked = typeof counts?.[section.id] === "number" ? (counts[section.id] as number) : null;
  const keywords = Array.isArray(data.keywords) ? data.keywords.length : 0;
  return Math.max(min, Math.min(max, Math.floor(asked ?? (keywords || min))));
}

/** `{name}` → the data's value (a list joined with commas; `{keyword}` is the instance's own keyword). */
function fill(text: string | null, data: Record<string, unknown>, instance?: number): string | null {
  if (text === null) return null;
  return text.replace(/\{([a-z_][a-z0-9_]*)\}/gi, (whole, name: string) => {
    if (name === "keyword" && instance !== undefined && Array.isArray(data.keywords)) {
      const keyword = data.keywords[(instance - 1) % data.keywords.length];
      return keyword === undefined ? whole : String(keyword);
    }
    const value = data[name];
    if (Array.isArray(value)) return value.map(String).join(", ");
    if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return String(value);
    return whole;
  });
}
