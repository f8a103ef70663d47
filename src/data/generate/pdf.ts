import { deflateSync } from 'node:zlib';

/**
 * A small PDF writer for generated letters: A4 pages of left-aligned lines in the
 * standard Helvetica fonts (which every PDF reader has, so nothing is embedded), the page
 * content compressed (FlateDecode, zlib: it halves the letter). Enough for a discharge
 * letter, and deterministic: the same lines and date give the same bytes.
 * The format: ISO 32000-1 (PDF 1.7), here its 1.4 subset.
 */

export interface PdfLine {
  text: string;
  bold?: boolean;
}

const PAGE_WIDTH = 595;
const PAGE_HEIGHT = 842;
const MARGIN = 56;
const LEADING = 14;
const LINES_PER_PAGE = Math.floor((PAGE_HEIGHT - 2 * MARGIN) / LEADING);
/** Characters per line: Helvetica at 10 points averages about 5 points a character. */
export const PDF_LINE_WIDTH = 92;

/** Splits text into lines of at most `width` characters, at spaces where it can. */
export function wrap(text: string, width = PDF_LINE_WIDTH): string[] {
  const out: string[] = [];
  let rest = text.trim();
  while (rest.length > width) {
    const cut = rest.lastIndexOf(' ', width);
    const at = cut > width / 2 ? cut : width;
    out.push(rest.slice(0, at).trimEnd());
    rest = rest.slice(at).trimStart();
  }
  out.push(rest);
  return out;
}

/** A PDF string literal: Latin-1 only (WinAnsiEncoding), with `\`, `(` and `)` escaped. */
function literal(text: string): string {
  return `(${text.replace(/[^\x20-\x7e\xa0-\xff]/g, '?').replace(/[\\()]/g, (c) => `\\${c}`)})`;
}

/** D:YYYYMMDDHHmmSSZ from an ISO date-time. */
function pdfDate(iso: string): string {
  return `D:${iso.replace(/[-:T]/g, '').slice(0, 14)}Z`;
}

/** A PDF document of the given lines, as bytes. `created` is an ISO date-time. */
export function pdfDocument(title: string, created: string, lines: readonly PdfLine[]): Buffer {
  const pages: PdfLine[][] = [];
  for (let i = 0; i < Math.max(1, lines.length); i += LINES_PER_PAGE) pages.push(lines.slice(i, i + LINES_PER_PAGE));
  // Objects: 1 catalog, 2 page tree, 3 and 4 fonts, 5 info, then a page and its content stream per page.
  const pageIds = pages.map((_, i) => 6 + 2 * i);
  const objects: Array<string | Buffer> = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    `<< /Type /Pages /Kids [${pageIds.map((id) => `${id} 0 R`).join(' ')}] /Count ${pages.length} >>`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>',
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>',
    `<< /Title ${literal(title)} /Producer (ccri) /CreationDate (${pdfDate(created)}) >>`,
  ];
  for (const [i, page] of pages.entries()) {
    let font = '';
    const ops = [`BT ${LEADING} TL ${MARGIN} ${PAGE_HEIGHT - MARGIN} Td`];
    for (const line of page) {
      const f = line.bold ? '/F2' : '/F1';
      if (f !== font) ops.push(`${(font = f)} 10 Tf`);
      ops.push(line.text ? `${literal(line.text)} Tj T*` : 'T*');
    }
    ops.push('ET');
    const stream = deflateSync(Buffer.from(ops.join('\n'), 'latin1'));
    objects.push(
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${PAGE_WIDTH} ${PAGE_HEIGHT}] /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents ${pageIds[i]! + 1} 0 R >>`,
      Buffer.concat([Buffer.from(`<< /Length ${stream.length} /Filter /FlateDecode >>\nstream\n`, 'latin1'), stream, Buffer.from('\nendstream', 'latin1')]),
    );
  }
  const parts: Buffer[] = [Buffer.from('%PDF-1.4\n', 'latin1')];
  let size = parts[0]!.length;
  const offsets: number[] = [];
  const add = (b: Buffer) => {
    parts.push(b);
    size += b.length;
  };
  for (const [i, obj] of objects.entries()) {
    offsets.push(size);
    add(Buffer.from(`${i + 1} 0 obj\n`, 'latin1'));
    add(typeof obj === 'string' ? Buffer.from(obj, 'latin1') : obj);
    add(Buffer.from('\nendobj\n', 'latin1'));
  }
  const xref = size;
  // Each cross-reference entry is exactly 20 bytes, its end-of-line included.
  add(Buffer.from(`xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`, 'latin1'));
  add(Buffer.from(`trailer\n<< /Size ${objects.length + 1} /Root 1 0 R /Info 5 0 R >>\nstartxref\n${xref}\n%%EOF\n`, 'latin1'));
  return Buffer.concat(parts);
}
