// The transcript on screen: timed segments that play the audio from their start when their time is
// clicked, the one playing highlighted, and text the user can correct in place.
import { clock } from "./api.js";

export class TranscriptView {
  /**
   * @param {HTMLOListElement} list where the segments go
   * @param {HTMLAudioElement} player plays the source audio
   * @param {() => void} onChange called when segments are added, replaced or edited
   */
  constructor(list, player, onChange) {
    this.list = list;
    this.player = player;
    this.onChange = onChange;
    this.segments = [];
    this.current = -1;
    this.audioUrl = null;
    player.addEventListener("timeupdate", () => this.highlight(player.currentTime));
    player.addEventListener("ended", () => this.highlight(-1));
  }

  /** Replace everything: `segments` are {start, end, text}; `audio` a Blob to play, or null. */
  show(segments, audio = null) {
    this.segments = [];
    this.list.replaceChildren();
    this.setAudio(audio);
    for (const segment of segments) this.add(segment);
    this.onChange();
  }

  /** The audio the segments' times refer to (a Blob, or null when there is none to play). */
  setAudio(audio) {
    if (this.audioUrl) URL.revokeObjectURL(this.audioUrl);
    this.audioUrl = audio ? URL.createObjectURL(audio) : null;
    if (this.audioUrl) this.player.src = this.audioUrl;
    else this.player.removeAttribute("src");
    this.player.hidden = !this.audioUrl;
    for (const button of this.list.querySelectorAll("button.time")) button.disabled = !this.audioUrl;
  }

  /** Append one segment (a live final, or one of a job's segments). */
  add({ start, end, text }) {
    const index = this.segments.length;
    const segment = { start, end, text: text.trim(), edited: false };
    this.segments.push(segment);

    const item = document.createElement("li");
    const time = document.createElement("button");
    time.type = "button";
    time.className = "time";
    time.textContent = clock(start);
    time.setAttribute("aria-label", `Play from ${clock(start)}`);
    time.disabled = !this.audioUrl;
    time.addEventListener("click", () => this.playFrom(index));

    const words = document.createElement("span");
    words.className = "text";
    words.contentEditable = "true";
    words.spellcheck = false;
    words.setAttribute("role", "textbox");
    words.setAttribute("aria-label", `Text from ${clock(start)} to ${clock(end)}, editable`);
    words.textContent = segment.text;
    words.addEventListener("input", () => {
      segment.text = words.textContent.replace(/\s+/g, " ");
      segment.edited = true;
      words.classList.add("edited");
      this.onChange();
    });
    words.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault(); // one segment, one line
        words.blur();
      }
    });

    item.append(time, words);
    this.list.append(item);
    this.onChange();
  }

  playFrom(index) {
    if (!this.audioUrl) return;
    this.player.currentTime = this.segments[index].start;
    this.player.play().catch(() => {});
    this.highlight(this.segments[index].start);
  }

  highlight(seconds) {
    let now = -1;
    if (seconds >= 0) {
      now = this.segments.findIndex((s, i) => {
        const next = this.segments[i + 1];
        return seconds >= s.start && seconds < (next ? Math.max(s.end, next.start) : s.end + 0.5);
      });
    }
    if (now === this.current) return;
    const items = this.list.children;
    if (this.current >= 0 && items[this.current]) {
      items[this.current].classList.remove("current");
      items[this.current].removeAttribute("aria-current");
    }
    this.current = now;
    if (now >= 0 && items[now]) {
      items[now].classList.add("current");
      items[now].setAttribute("aria-current", "true");
      items[now].scrollIntoView({ block: "nearest" });
    }
  }

  get empty() {
    return this.segments.length === 0;
  }
}
