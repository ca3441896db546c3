// The page: pick or drop a file (short ones answered at once, long ones as a background job with a real
// progress bar), or record from the microphone; read, play, correct and download the transcript.
import { ApiError, apiKey, call, clock, megabytes, setApiKey, upload } from "./api.js";
import { FORMATS } from "./formats.js";
import { JobsTable, followJob, submitJob } from "./jobs.js";
import { LiveRecorder } from "./recorder.js";
import { TranscriptView } from "./transcript.js";

const $ = (id) => document.getElementById(id);
const count = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
// Files longer than this go through the job API even when the server would take them at once: a real
// progress bar beats a long wait on an open request.
const LONGEST_SYNC_S = 60;

const ui = {
  file: $("file"), drop: $("drop"), asJob: $("as-job"), record: $("record"), recordLabel: $("record-label"),
  progressBox: $("progress-box"), progress: $("progress"), progressLabel: $("progress-label"),
  progressText: $("progress-text"), cancel: $("cancel"), status: $("status"), error: $("error"),
  live: $("live"), empty: $("empty"), source: $("source"), player: $("player"), auth: $("auth"),
  apiKey: $("api-key"), theme: $("theme"),
  downloads: document.querySelectorAll(".downloads button"),
};

let config = {
  max_upload_bytes: 25 * 1048576, max_sync_duration_s: 600, max_job_upload_bytes: 500 * 1048576,
  max_job_duration_s: 4 * 3600, cue_line_chars: 42, cue_lines: 2, language: "hi",
};
let sourceName = "transcript";
let sourceDuration = null;
let busy = false;
let recorder = null;
let cancelling = null;

const transcript = new TranscriptView($("segments"), ui.player, () => {
  const none = transcript.empty;
  ui.empty.hidden = !none;
  for (const button of ui.downloads) button.disabled = none;
});
const jobs = new JobsTable(document.querySelector("#jobs tbody"), $("no-jobs"), {
  onOpen: openJob,
  onError: showError,
});

// ---- messages -------------------------------------------------------------------------------------

function showError(error) {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof ApiError && error.code === "cancelled") {
    say("Cancelled.");
    return;
  }
  ui.error.textContent = message;
  ui.error.hidden = false;
  if (error instanceof ApiError && error.needsKey) askForKey();
}

function clearError() {
  ui.error.hidden = true;
  ui.error.textContent = "";
}

function say(text) {
  ui.status.textContent = text;
}

/** While a file is worked on, neither a file nor the microphone can start; while recording, no file.
 * (The record button stays enabled while it records: a disabled button would lose the keyboard focus.) */
function setBusy(value, { recording = false } = {}) {
  busy = value;
  ui.file.disabled = value;
  ui.asJob.disabled = value;
  ui.record.disabled = value && !recording;
}

function showProgress(label, fraction, text = "") {
  ui.progressBox.hidden = false;
  ui.progressLabel.textContent = label;
  if (fraction === null) ui.progress.removeAttribute("value");
  else ui.progress.value = Math.round(fraction * 1000) / 10;
  ui.progressText.textContent = text || (fraction === null ? "" : `${Math.floor(fraction * 100)} %`);
}

function hideProgress() {
  ui.progressBox.hidden = true;
  ui.cancel.hidden = true;
}

// ---- files ----------------------------------------------------------------------------------------

/** The file's duration as the browser reads it (null when it cannot: the server will say). */
function probeDuration(file) {
  return new Promise((resolve) => {
    const audio = document.createElement("audio");
    const url = URL.createObjectURL(file);
    let settled = false;
    const done = (seconds) => {
      if (settled) return;
      settled = true;
      URL.revokeObjectURL(url);
      audio.removeAttribute("src");
      resolve(Number.isFinite(seconds) && seconds > 0 ? seconds : null);
    };
    audio.preload = "metadata";
    audio.onloadedmetadata = () => done(audio.duration);
    audio.onerror = () => done(null);
    setTimeout(() => done(null), 3000);
    audio.src = url;
  });
}

async function transcribeFile(file) {
  if (busy) return;
  clearError();
  if (file.size > config.max_job_upload_bytes) {
    showError(`The file is too large: it is ${megabytes(file.size)}, and this server takes files up to ` +
      `${megabytes(config.max_job_upload_bytes)}.`);
    return;
  }
  setBusy(true);
  sourceName = file.name.replace(/\.[^.]+$/, "") || "transcript";
  ui.source.textContent = file.name;
  transcript.show([], null);
  const controller = new AbortController();
  cancelling = controller;
  ui.cancel.hidden = false;
  try {
    const duration = await probeDuration(file);
    sourceDuration = duration;
    if (duration && duration > config.max_job_duration_s) {
      throw new ApiError(`The recording is too long: ${clock(duration)}; this server takes up to ` +
        `${clock(config.max_job_duration_s)}.`);
    }
    const longest = Math.min(config.max_sync_duration_s, LONGEST_SYNC_S);
    const asJob = ui.asJob.checked || file.size > config.max_upload_bytes || (duration && duration > longest);
    let result;
    if (asJob) result = await viaJob(file, controller.signal);
    else {
      try {
        result = await viaRequest(file, controller.signal);
      } catch (error) {
        if (!(error instanceof ApiError && error.code === "audio_too_long")) throw error;
        result = await viaJob(file, controller.signal); // longer than the browser could tell
      }
    }
    sourceDuration = result.duration;
    transcript.show(result.segments || [], file);
    say(`Transcribed ${clock(result.duration)} of audio: ${count((result.segments || []).length, "segment")}.`);
    $("transcript-heading").focus();
  } catch (error) {
    showError(error);
  } finally {
    cancelling = null;
    hideProgress();
    setBusy(false);
    ui.file.value = "";
  }
}

async function viaRequest(file, signal) {
  const form = new FormData();
  form.append("file", file, file.name);
  form.append("model", "whisper-1");
  form.append("language", config.language);
  form.append("response_format", "verbose_json");
  form.append("timestamp_granularities[]", "segment");
  say(`Uploading ${file.name}...`);
  showProgress("Uploading", 0);
  return upload("/v1/audio/transcriptions", form, {
    signal,
    onProgress: (fraction) => {
      if (fraction < 1) showProgress("Uploading", fraction);
      else {
        showProgress("Transcribing", null, "");
        say(`Transcribing ${file.name}...`);
      }
    },
  });
}

async function viaJob(file, signal) {
  say(`Uploading ${file.name} as a background job...`);
  showProgress("Uploading", 0);
  const job = await submitJob(file, {
    language: config.language,
    signal,
    onUpload: (fraction) => showProgress("Uploading", fraction),
  });
  jobs.refresh();
  ui.cancel.onclick = () => call(`/v1/jobs/${job.id}`, { method: "DELETE" }).catch(showError);
  try {
    return await followJob(job.id, {
      onJob: (state) => {
        const of = state.duration ? ` · ${clock(state.transcribed)} of ${clock(state.duration)}` : "";
        const label = state.status === "queued" ? "Waiting for a worker" : "Transcribing";
        showProgress(label, state.progress, `${Math.floor(state.progress * 100)} %${of}`);
        say(`${label}: ${file.name}`);
      },
    });
  } finally {
    ui.cancel.onclick = null;
    jobs.refresh();
  }
}

async function openJob(job) {
  clearError();
  try {
    const result = await call(`/v1/jobs/${job.id}/result?format=verbose_json`);
    sourceName = (job.filename || job.id).replace(/\.[^.]+$/, "");
    sourceDuration = result.duration;
    ui.source.textContent = `${job.filename || job.id} (the audio is not kept, so it cannot be played)`;
    transcript.show(result.segments || [], null);
    $("transcript-heading").focus();
  } catch (error) {
    showError(error);
  }
}

// ---- microphone -----------------------------------------------------------------------------------

async function toggleRecording() {
  if (ui.record.getAttribute("aria-disabled") === "true") return; // finishing
  if (recorder) {
    ui.record.setAttribute("aria-disabled", "true");
    ui.recordLabel.textContent = "Finishing...";
    say("Finishing the last sentence...");
    const active = recorder;
    const { audio, seconds } = await active.stop();
    if (recorder === active) endRecording();
    transcript.setAudio(audio);
    say(`Recorded ${clock(seconds)}: ${count(transcript.segments.length, "segment")}.`);
    return;
  }
  clearError();
  setBusy(true, { recording: true });
  sourceName = `recording-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, "-")}`;
  ui.source.textContent = "Live recording";
  transcript.show([], null);
  const active = new LiveRecorder({
    partial: (message) => {
      ui.live.textContent = message.text;
    },
    final: (message) => {
      ui.live.textContent = "";
      if (message.text.trim()) transcript.add(message);
    },
    error: showError,
    closed: () => {
      if (recorder === active) endRecording();
    },
  });
  try {
    recorder = active;
    ui.record.setAttribute("aria-pressed", "true");
    ui.recordLabel.textContent = "Stop";
    ui.live.hidden = false;
    ui.live.textContent = "";
    say("Listening: speak Hindi. Press Stop when you are done.");
    await active.start({ language: config.language });
  } catch (error) {
    endRecording();
    showError(error);
    say("");
  }
}

function endRecording() {
  recorder = null;
  ui.record.removeAttribute("aria-disabled");
  ui.record.setAttribute("aria-pressed", "false");
  ui.recordLabel.textContent = "Record";
  ui.live.hidden = true;
  setBusy(false);
}

// ---- downloads, key, theme ------------------------------------------------------------------------

function download(format) {
  const { render, type } = FORMATS[format];
  const layout = { lineChars: config.cue_line_chars, lines: config.cue_lines };
  const meta = { language: config.language, duration: sourceDuration, source: ui.source.textContent };
  const body = render(transcript.segments, format === "json" ? meta : layout);
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([body], { type: `${type};charset=utf-8` }));
  link.download = `${sourceName}.${format}`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

function askForKey() {
  ui.auth.hidden = false;
  ui.apiKey.value = apiKey();
  ui.apiKey.focus();
}

async function loadConfig() {
  try {
    config = { ...config, ...(await call("/web/config")) };
    ui.auth.hidden = true;
    $("docs-link").hidden = !config.docs;
    return true;
  } catch (error) {
    if (error instanceof ApiError && error.needsKey && !apiKey()) askForKey();
    else showError(error); // a wrong key says so, and asks again
    return false;
  }
}

function applyTheme(choice) {
  if (choice === "light" || choice === "dark") document.documentElement.dataset.theme = choice;
  else delete document.documentElement.dataset.theme;
}

// ---- wiring ---------------------------------------------------------------------------------------

ui.file.addEventListener("change", () => {
  if (ui.file.files.length) transcribeFile(ui.file.files[0]);
});
ui.drop.addEventListener("dragover", (event) => {
  event.preventDefault();
  ui.drop.classList.add("over");
});
ui.drop.addEventListener("dragleave", () => ui.drop.classList.remove("over"));
ui.drop.addEventListener("drop", (event) => {
  event.preventDefault();
  ui.drop.classList.remove("over");
  const file = event.dataTransfer.files[0];
  if (file) transcribeFile(file);
});
ui.cancel.addEventListener("click", () => {
  if (cancelling) cancelling.abort();
});
ui.record.addEventListener("click", toggleRecording);
for (const button of ui.downloads) button.addEventListener("click", () => download(button.dataset.format));
$("refresh-jobs").addEventListener("click", () => jobs.refresh());
ui.auth.addEventListener("submit", async (event) => {
  event.preventDefault();
  setApiKey(ui.apiKey.value.trim());
  clearError();
  if (await loadConfig()) jobs.refresh();
});
ui.theme.value = localStorage.getItem("awaaz.theme") || "system";
applyTheme(ui.theme.value);
ui.theme.addEventListener("change", () => {
  localStorage.setItem("awaaz.theme", ui.theme.value);
  applyTheme(ui.theme.value);
});

if (await loadConfig()) await jobs.refresh();
document.body.dataset.ready = "true";
