import { Response } from 'undici';

/** One part of a `multipart/form-data` body; plain fields have no `filename`. */
export interface MultipartPart {
  name: string;
  filename?: string;
  contentType?: string;
  data: Buffer;
}

/** `isMultipart` tells whether a content-type announces a form-data body. */
export function isMultipart(contentType: string | undefined): contentType is string {
  return contentType?.toLowerCase().startsWith('multipart/form-data') ?? false;
}

/**
 * `parseMultipart` returns the parts of a form-data body in wire order, or `undefined` when the
 * body is malformed. It leans on undici's spec-compliant parser rather than a hand-rolled one;
 * undici keeps directory-qualified filenames (`my-skill/SKILL.md`) intact, which the skills
 * upload rules depend on.
 */
export async function parseMultipart(body: Buffer, contentType: string): Promise<MultipartPart[] | undefined> {
  let form;
  try {
    form = await new Response(body, { headers: { 'content-type': contentType } }).formData();
  } catch {
    return undefined;
  }
  const parts: MultipartPart[] = [];
  for (const [name, value] of form.entries()) {
    if (typeof value === 'string') {
      parts.push({ name, data: Buffer.from(value, 'utf8') });
    } else {
      parts.push({
        name,
        filename: value.name,
        contentType: value.type,
        data: Buffer.from(await value.arrayBuffer()),
      });
    }
  }
  return parts;
}

/** `fieldText` returns the text of the first plain field called `name`, if any. */
export function fieldText(parts: MultipartPart[], name: string): string | undefined {
  const part = parts.find((p) => p.name === name && p.filename === undefined);
  return part?.data.toString('utf8');
}
