// Background jobs (/v1/jobs): submit with upload progress, follow a job to the end, list recent ones.
import { ApiError, call, clock, upload } from "./api.js";

const STATES = {
  queued: "Waiting",
  running: "Transcribing",
  done: "Done",
  failed: "Failed",
  cancelled: "Cancelled",
};

export async function submitJob(file, { language = "hi", onUpload, signal } = {}) {
  const form = new FormData();
  form.append("file", file, file.name);
  form.append("language", language);
  return upload("/v1/jobs", form, { onProgress: onUpload, signal });
}

/**
 * Poll a job until it finishes; `onJob(job)` sees every state. Resolves with the verbose_json result of
 * a finished job; rejects with the job's own error when it failed, or "Cancelled." when it was cancelled.
 */
export async function followJob(id, { onJob, signal, every = 1000 } = {}) {
  for (;;) {
    if (signal && signal.aborted) throw new ApiError("Cancelled.", { code: "cancelled" });
    const job = await call(`/v1/jobs/${id}`);
    onJob(job);
    if (job.status === "done") return call(`/v1/jobs/${id}/result?format=verbose_json`);
    if (job.status === "failed") {
      throw new ApiError(`The job failed: ${job.error ? job.error.message : "no reason given"}`);
    }
    if (job.status === "cancelled") throw new ApiError("Cancelled.", { code: "cancelled" });
    await new Promise((resolve) => setTimeout(resolve, every));
  }
}

export class JobsTable {
  /** `onOpen(job)` shows a finished job's transcript; `onError(error)` reports a failed call. */
  constructor(body, emptyNote, { onOpen, onError }) {
    this.body = body;
    this.emptyNote = emptyNote;
    this.onOpen = onOpen;
    this.onError = onError;
  }

  async refresh() {
    let page;
    try {
      page = await call("/v1/jobs?limit=10");
    } catch (error) {
      if (!(error instanceof ApiError && error.needsKey)) this.onError(error);
      return;
    }
    this.body.replaceChildren(...page.data.map((job) => this.row(job)));
    this.emptyNote.hidden = page.data.length > 0;
    this.body.closest("table").hidden = page.data.length === 0;
  }

  row(job) {
    const tr = document.createElement("tr");
    tr.dataset.job = job.id;
    const name = job.filename || job.id;
    const cells = [name, STATES[job.status] || job.status];
    for (const text of cells) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.append(td);
    }
    const progress = document.createElement("td");
    const bar = document.createElement("progress");
    bar.max = 100;
    bar.value = Math.round(job.progress * 100);
    bar.setAttribute("aria-label", `${name}: ${bar.value} %`);
    progress.append(bar);
    if (job.duration) progress.append(` ${clock(job.duration)}`);
    tr.append(progress);

    const when = document.createElement("td");
    when.textContent = new Date(job.created_at * 1000).toLocaleString();
    tr.append(when);

    const actions = document.createElement("td");
    if (job.status === "done") {
      actions.append(this.button("Open", `Open the transcript of ${name}`, () => this.onOpen(job)));
    } else if (job.status === "queued" || job.status === "running") {
      actions.append(this.button("Cancel", `Cancel the job for ${name}`, async () => {
        try {
          await call(`/v1/jobs/${job.id}`, { method: "DELETE" });
        } catch (error) {
          this.onError(error);
        }
        await this.refresh();
      }));
    } else if (job.error) {
      actions.textContent = job.error.message;
    }
    tr.append(actions);
    return tr;
  }

  button(label, description, onClick) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = label;
    button.setAttribute("aria-label", description);
    button.addEventListener("click", onClick);
    return button;
  }
}
