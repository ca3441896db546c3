// AudioWorklet processor: the microphone's first channel as PCM16 little-endian, posted in frames of
// about 100 ms (the live protocol takes binary frames of mono PCM16 at the context's sample rate).
class PcmSender extends AudioWorkletProcessor {
  constructor() {
    super();
    this.size = Math.round(sampleRate / 10);
    this.frame = new Int16Array(this.size);
    this.filled = 0;
    // "flush": send what is buffered (the end of the recording), then an empty frame as an acknowledgement.
    this.port.onmessage = () => {
      const rest = this.frame.slice(0, this.filled);
      this.filled = 0;
      this.port.postMessage(rest.buffer, [rest.buffer]);
      this.port.postMessage(new ArrayBuffer(0));
    };
  }

  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (channel) {
      for (let i = 0; i < channel.length; i++) {
        const s = Math.max(-1, Math.min(1, channel[i]));
        this.frame[this.filled++] = s < 0 ? s * 0x8000 : s * 0x7fff;
        if (this.filled === this.size) {
          this.port.postMessage(this.frame.buffer, [this.frame.buffer]); // detaches this.frame
          this.frame = new Int16Array(this.size);
          this.filled = 0;
        }
      }
    }
    return true;
  }
}

registerProcessor("pcm-sender", PcmSender);
