import type { ComponentPlugin, PipelineState } from "./plugin.ts";

interface Part {
  name: string;
  texts: string[];
}

/**
 * The transformer component: renders the generated content in the config's
 * format (markdown, html or text), titled by the context's data.title, in
 * the filled template's section order, with a table of contents when
 * add_table_of_contents is set. It renders Strata's own structure (sections
 * and their paragraphs), so no markup is parsed; HTML output is escaped.
 */
export const transformerComponent: ComponentPlugin = {
  type: "transformer",
  async run({ context, config, state }) {
    const format = config.format === "html" || config.format === "text" ? config.format : "markdown";
    const title = state.template?.title ?? (typeof context.data.title === "string" ? context.data.title : null);
    const parts = partsOf(state);
    const toc = config.add_table_of_contents === true ? parts.map((part) => part.name) : null;
    const content =
      format === "html"
        ? html(title, parts, toc)
        : format === "text"
          ? text(title, parts, toc)
          : markdown(title, parts, toc);
    return {
      state: { ...state, formatted_content: { format, content, ...(toc ? { table_of_contents: toc } : {}) } },
    };
  },
};

/** Sections in the template's order (instances of a repeated section under its first one's name), else as generated. */
function partsOf(state: PipelineState): Part[] {
  const generated = state.generated_content ?? {};
  const asTexts = (value: string | string[] | undefined) =>
    value === undefined ? [] : Array.isArray(value) ? value : [value];
  if (!state.template) return Object.entries(generated).map(([id, value]) => ({ name: id, texts: asTexts(value) }));
  const parts: Part[] = [];
  const seen = new Set<string>();
  for (const section of state.template.sections) {
    const id = section.part_of ?? section.id;
    if (seen.has(id)) continue;
    seen.add(id);
    parts.push({
      name: section.part_of ? section.name.replace(/\s+\d+$/, "") : section.name,
      texts: asTexts(generated[id]),
    });
  }
  return parts;
}

export function slug(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s-]/gu, "")
    .trim()
    .replace(/\s+/g, "-");
}

function markdown(title: string | null, parts: Part[], toc: string[] | null): string {
  const lines: string[] = [];
  if (title) lines.push(`# ${title}`, "");
  if (toc) lines.push("## Contents", "", ...toc.map((name) => `- [${name}](#${slug(name)})`), "");
  for (const part of parts) lines.push(`## ${part.name}`, "", ...part.texts.flatMap((t) => [t, ""]));
  return `${lines.join("\n").trimEnd()}\n`;
}

function text(title: string | null, parts: Part[], toc: string[] | null): string {
  const lines: string[] = [];
  if (title) lines.push(title, "=".repeat(title.length), "");
  if (toc) lines.push("Contents", ...toc.map((name, i) => `${i + 1}. ${name}`), "");
  for (const part of parts)
    lines.push(part.name, "-".repeat(part.name.length), "", ...part.texts.flatMap((t) => [t, ""]));
  return `${lines.join("\n").trimEnd()}\n`;
}

function html(title: string | null, parts: Part[], toc: string[] | null): string {
  const out: string[] = [];
  if (title) out.push(`<h1>${escapeHtml(title)}</h1>`);
  if (toc) {
    const items = toc.map((name) => `<li><a href="#${escapeHtml(slug(name))}">${escapeHtml(name)}</a></li>`).join("");
    out.push(`<nav><h2>Contents</h2><ul>${items}</ul></nav>`);
  }
  for (const part of parts) {
    out.push(`<h2 id="${escapeHtml(slug(part.name))}">${escapeHtml(part.name)}</h2>`);
    for (const t of part.texts) {
      for (const paragraph of t.split(/\n{2,}/)) out.push(`<p>${escapeHtml(paragraph.trim())}</p>`);
    }
  }
  return `${out.join("\n")}\n`;
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
