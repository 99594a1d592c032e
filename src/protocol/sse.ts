/**
 * Incremental Server-Sent Events parser for upstream streams. Feed it decoded text as it arrives; it calls
 * `onEvent` once per complete event. Handles CRLF, multi-line data and comments, and never buffers more
 * than one incomplete event.
 */
export class SseParser {
  private buffer = '';
  private eventName = '';
  private data = '';
  private hasData = false;
  constructor(private readonly onEvent: (event: string, data: string) => void) {}

  push(chunk: string): void {
    this.buffer += chunk;
    let start = 0;
    for (;;) {
      const nl = this.buffer.indexOf('\n', start);
      if (nl === -1) break;
      let line = this.buffer.slice(start, nl);
      if (line.endsWith('\r')) line = line.slice(0, -1);
      start = nl + 1;
      this.line(line);
    }
    this.buffer = start === 0 ? this.buffer : this.buffer.slice(start);
  }

  /** Flushes a final event that was not followed by a blank line. */
  end(): void {
    if (this.buffer.length > 0) {
      this.line(this.buffer);
      this.buffer = '';
    }
    this.line('');
  }

  private line(line: string): void {
    if (line === '') {
      if (this.hasData) this.onEvent(this.eventName || 'message', this.data);
      this.eventName = '';
      this.data = '';
      this.hasData = false;
      return;
    }
    if (line.charCodeAt(0) === 58 /* : */) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') {
      this.data = this.hasData ? `${this.data}\n${value}` : value;
      this.hasData = true;
    } else if (field === 'event') {
      this.eventName = value;
    }
  }
}
