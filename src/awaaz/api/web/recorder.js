// Live transcription from the microphone: an AudioWorklet turns it into PCM16 frames that go to
// /v1/stream (README "Live transcription"); partials and finals come back as they are decoded.
import { socketUrl } from "./api.js";

export class RecorderError extends Error {}

function microphoneProblem(error) {
  switch (error && error.name) {
    case "NotAllowedError":
    case "SecurityError":
      return "Microphone access was refused, so nothing can be recorded. To record, allow the microphone " +
        "for this site (the icon at the left of the address bar), then press Record again. You can still " +
        "transcribe files.";
    case "NotFoundError":
    case "OverconstrainedError":
      return "No microphone was found. Connect one, then press Record again.";
    case "NotReadableError":
    case "AbortError":
      return "The microphone could not be opened: another program may be using it.";
    default:
      return `The microphone could not be opened (${(error && error.message) || error}).`;
  }
}

const CLOSE_REASONS = {
  too_many_streams: "The server is busy: all live streams are taken. Try again in a minute.",
  idle_timeout: "The live connection was closed because no audio arrived.",
  session_too_long: "The recording reached the server's longest session; it was stopped.",
};

/** A WAV file (PCM16 mono) of the recorded frames, so the transcript can be played back. */
function wav(frames, rate) {
  const length = frames.reduce((n, f) => n + f.byteLength, 0);
  const header = new DataView(new ArrayBuffer(44));
  const text = (at, s) => [...s].forEach((c, i) => header.setUint8(at + i, c.charCodeAt(0)));
  text(0, "RIFF");
  header.setUint32(4, 36 + length, true);
  text(8, "WAVEfmt ");
  header.setUint32(16, 16, true);
  header.setUint16(20, 1, true);
  header.setUint16(22, 1, true);
  header.setUint32(24, rate, true);
  header.setUint32(28, rate * 2, true);
  header.setUint16(32, 2, true);
  header.setUint16(34, 16, true);
  text(36, "data");
  header.setUint32(40, length, true);
  return new Blob([header, ...frames], { type: "audio/wav" });
}

export class LiveRecorder {
  /** `on` has partial(message), final(message), error(text) and closed() handlers. */
  constructor(on) {
    this.on = on;
    this.frames = [];
    this.ended = null;
  }

  async start({ language = "hi" } = {}) {
    if (!window.isSecureContext || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      throw new RecorderError("The browser only lends the microphone to secure pages: open Awaaz over " +
        "https://, or on this machine as http://localhost.");
    }
    try {
      this.media = await navigator.mediaDevices.getUserMedia({
        audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true },
      });
    } catch (error) {
      throw new RecorderError(microphoneProblem(error));
    }
    try {
      await this.openAudio();
      await this.openSocket(language);
    } catch (error) {
      this.release();
      throw error instanceof RecorderError ? error : new RecorderError(`Recording failed: ${error.message}`);
    }
  }

  async openAudio() {
    // 16 kHz is what the model hears; browsers that cannot resample the microphone get their own rate.
    try {
      this.context = new AudioContext({ sampleRate: 16000 });
      this.source = this.context.createMediaStreamSource(this.media);
    } catch {
      if (this.context) this.context.close();
      this.context = new AudioContext();
      this.source = this.context.createMediaStreamSource(this.media);
    }
    if (this.context.sampleRate > 48000) {
      throw new RecorderError(`The microphone runs at ${this.context.sampleRate} Hz; the server takes at most 48 kHz.`);
    }
    await this.context.audioWorklet.addModule("/web/pcm-worklet.js");
    this.node = new AudioWorkletNode(this.context, "pcm-sender", { numberOfOutputs: 0 });
    this.source.connect(this.node);
    // Created after the permission prompt, the context may start suspended (autoplay rules).
    await this.context.resume();
  }

  openSocket(language) {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(socketUrl("/v1/stream"));
      socket.binaryType = "arraybuffer";
      this.socket = socket;
      let serverError = null;
      this.ended = new Promise((done) => {
        socket.onclose = (event) => {
          this.release();
          if (!this.stopping || serverError || event.code !== 1000) {
            const reason = serverError || CLOSE_REASONS[event.reason] ||
              (event.code === 1000 ? "" : "The live connection was lost. Check your network and record again.");
            if (reason) this.on.error(reason);
          }
          reject(new RecorderError(serverError || "The live connection could not be opened."));
          if (this.on.closed) this.on.closed();
          done();
        };
      });
      socket.onopen = () => {
        socket.send(JSON.stringify({
          type: "start", language, sample_rate: this.context.sampleRate, interim_results: true,
        }));
        this.node.port.onmessage = ({ data }) => {
          if (data.byteLength === 0) {
            if (this.flushed) this.flushed();
            return;
          }
          this.frames.push(data);
          if (socket.readyState === WebSocket.OPEN) socket.send(data);
        };
        resolve();
      };
      socket.onmessage = ({ data }) => {
        const message = JSON.parse(data);
        if (message.type === "partial") this.on.partial(message);
        else if (message.type === "final") this.on.final(message);
        else if (message.type === "error") serverError = CLOSE_REASONS[message.code] || message.message;
      };
    });
  }

  /** Stop the microphone and let the server finish the last utterance; resolves with the recording as a
   * WAV Blob (`audio`) and its length (`seconds`). */
  async stop() {
    this.stopping = true;
    if (this.node && this.socket && this.socket.readyState === WebSocket.OPEN) {
      await new Promise((resolve) => {
        this.flushed = resolve;
        this.node.port.postMessage("flush");
        setTimeout(resolve, 500);
      });
      this.socket.send(JSON.stringify({ type: "stop" }));
    }
    const rate = this.context ? this.context.sampleRate : 16000;
    this.releaseInput();
    await Promise.race([this.ended, new Promise((resolve) => setTimeout(resolve, 60000))]);
    if (this.socket && this.socket.readyState !== WebSocket.CLOSED) this.socket.close();
    const samples = this.frames.reduce((n, f) => n + f.byteLength / 2, 0);
    return { audio: wav(this.frames, rate), seconds: samples / rate };
  }

  releaseInput() {
    if (this.media) this.media.getTracks().forEach((track) => track.stop());
    if (this.source) this.source.disconnect();
    if (this.context && this.context.state !== "closed") this.context.close();
    this.media = this.source = null;
  }

  release() {
    this.releaseInput();
    if (this.socket && this.socket.readyState === WebSocket.OPEN && !this.stopping) this.socket.close();
  }
}
