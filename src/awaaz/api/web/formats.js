// The (edited) transcript as txt, srt, vtt or json, laid out as the server's own formats (awaaz.formats).

function stamp(seconds, separator) {
  let millis = Math.max(0, Math.round(seconds * 1000));
  const hours = Math.floor(millis / 3600000);
  millis -= hours * 3600000;
  const minutes = Math.floor(millis / 60000);
  millis -= minutes * 60000;
  const secs = Math.floor(millis / 1000);
  millis -= secs * 1000;
  const two = (n) => String(n).padStart(2, "0");
  return `${two(hours)}:${two(minutes)}:${two(secs)}${separator}${String(millis).padStart(3, "0")}`;
}

/** `text` broken between words into as few lines as the width allows (at most `lines`), of even length. */
export function wrapLines(text, lineChars = 42, lines = 2) {
  const words = text.split(/\s+/).filter(Boolean);
  if (text.length <= lineChars || words.length < 2) return text;
  const count = Math.min(lines, Math.ceil(text.length / lineChars), words.length);
  const target = Math.ceil(text.length / count);
  const out = [[]];
  for (const word of words) {
    const last = out[out.length - 1];
    const longer = [...last, word].join(" ").length;
    if (last.length && longer > target && out.length < count) out.push([]);
    out[out.length - 1].push(word);
  }
  return out.map((line) => line.join(" ")).join("\n");
}

function cues(segments) {
  return segments.filter((s) => s.text.trim());
}

export function toText(segments) {
  return `${segments.map((s) => s.text.trim()).filter(Boolean).join(" ")}\n`;
}

export function toSrt(segments, layout = {}) {
  return cues(segments)
    .map((s, i) => `${i + 1}\n${stamp(s.start, ",")} --> ${stamp(s.end, ",")}\n` +
      `${wrapLines(s.text.trim(), layout.lineChars, layout.lines)}\n`)
    .join("\n");
}

export function toVtt(segments, layout = {}) {
  const blocks = cues(segments).map((s) => `${stamp(s.start, ".")} --> ${stamp(s.end, ".")}\n` +
    `${wrapLines(s.text.trim(), layout.lineChars, layout.lines)}\n`);
  return `WEBVTT\n\n${blocks.join("\n")}`;
}

export function toJson(segments, meta = {}) {
  const body = {
    text: toText(segments).trim(),
    language: meta.language || "hi",
    duration: meta.duration ?? null,
    source: meta.source || null,
    segments: segments.map((s, id) => ({
      id,
      start: Math.round(s.start * 1000) / 1000,
      end: Math.round(s.end * 1000) / 1000,
      text: s.text.trim(),
      edited: Boolean(s.edited),
    })),
  };
  return `${JSON.stringify(body, null, 2)}\n`;
}

export const FORMATS = {
  txt: { render: toText, type: "text/plain" },
  srt: { render: toSrt, type: "application/x-subrip" },
  vtt: { render: toVtt, type: "text/vtt" },
  json: { render: toJson, type: "application/json" },
};
