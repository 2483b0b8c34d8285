/**
 * Request, Response and Headers for a function's process, replacing Node's (undici's) before
 * anything touches them: Node loads its whole fetch implementation (undici, with HTTP, TLS and
 * web streams) on the first use of any of the three, ~55 ms of CPU and ~13 MB in a cold start
 * measured here, for objects that carry a Lambda event's body into Hono and its answer back out.
 * These cover what Hono and its Lambda adapter use; `fetch` stays Node's (it loads on use).
 */

type Bytes = Uint8Array<ArrayBuffer>;
type BodyValue = string | Bytes | ArrayBuffer | ReadableStream<Uint8Array> | null;
export type HeadersLike =
  | Headers
  | Iterable<readonly [string, string]>
  | Record<string, string | readonly string[]>;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// As Node's Headers refuses them: a name that is not an HTTP token, a value with NUL, CR or LF.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_VALUE = /[\0\r\n]/;

function headerName(name: string): string {
  if (!TOKEN.test(name)) throw new TypeError(`Invalid header name: "${name}"`);
  return name.toLowerCase();
}

function headerValue(name: string, value: string): string {
  const v = String(value).replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, "");
  if (BAD_VALUE.test(v)) throw new TypeError(`Invalid value for header "${name}"`);
  return v;
}

/** HTTP headers: names case-insensitive, repeated values joined with ", " (Set-Cookie kept apart). */
export class LightHeaders {
  readonly #values = new Map<string, string[]>();

  constructor(init?: HeadersLike | null) {
    if (init == null) return;
    if (typeof (init as Headers).forEach === "function" && !Array.isArray(init)) {
      (init as Headers).forEach((value, name) => {
        this.append(name, value);
      });
    } else if (Symbol.iterator in (init as object)) {
      for (const [name, value] of init as Iterable<readonly [string, string]>) {
        this.append(name, value);
      }
    } else {
      for (const [name, value] of Object.entries(init as Record<string, string | string[]>)) {
        for (const v of Array.isArray(value) ? value : [value]) this.append(name, v);
      }
    }
  }

  append(name: string, value: string): void {
    const key = headerName(name);
    const v = headerValue(name, value);
    const list = this.#values.get(key);
    if (list) list.push(v);
    else this.#values.set(key, [v]);
  }

  set(name: string, value: string): void {
    this.#values.set(headerName(name), [headerValue(name, value)]);
  }

  get(name: string): string | null {
    return this.#values.get(name.toLowerCase())?.join(", ") ?? null;
  }

  has(name: string): boolean {
    return this.#values.has(name.toLowerCase());
  }

  delete(name: string): void {
    this.#values.delete(name.toLowerCase());
  }

  getSetCookie(): string[] {
    return [...(this.#values.get("set-cookie") ?? [])];
  }

  *entries(): IterableIterator<[string, string]> {
    for (const name of [...this.#values.keys()].sort()) {
      const list = this.#values.get(name)!;
      if (name === "set-cookie") for (const v of list) yield [name, v];
      else yield [name, list.join(", ")];
    }
  }

  keys(): IterableIterator<string> {
    return [...this.entries()].map(([name]) => name)[Symbol.iterator]();
  }

  values(): IterableIterator<string> {
    return [...this.entries()].map(([, value]) => value)[Symbol.iterator]();
  }

  forEach(fn: (value: string, name: string, headers: LightHeaders) => void): void {
    for (const [name, value] of this.entries()) fn(value, name, this);
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
}

/** A body read once, as bytes, text or JSON (a stream is read to its end). */
class Body {
  #body: BodyValue;
  #used = false;
  #stream: ReadableStream<Uint8Array> | null = null;

  constructor(body: BodyValue | undefined) {
    this.#body = body ?? null;
  }

  get bodyUsed(): boolean {
    return this.#used;
  }

  /** The body as a stream (made on first use for a body held in memory). */
  get body(): ReadableStream<Uint8Array> | null {
    const b = this.#body;
    if (b === null) return null;
    if (isStream(b)) return b;
    this.#stream ??= new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(toBytes(b));
        controller.close();
      },
    });
    return this.#stream;
  }

  protected rawBody(): BodyValue {
    return this.#body;
  }

  async bytes(): Promise<Bytes> {
    if (this.#used) throw new TypeError("Body has already been used");
    this.#used = true;
    const b = this.#stream ?? this.#body;
    if (b === null) return new Uint8Array(0);
    if (!isStream(b)) return toBytes(b);
    const chunks: Uint8Array[] = [];
    for await (const chunk of b as unknown as AsyncIterable<Uint8Array>) chunks.push(chunk);
    return new Uint8Array(Buffer.concat(chunks));
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = await this.bytes();
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  }

  async text(): Promise<string> {
    const b = this.#body;
    if (typeof b === "string" && !this.#used && this.#stream === null) {
      this.#used = true;
      return b;
    }
    return decoder.decode(await this.bytes());
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }
}

/** A web stream, told apart without touching the global ReadableStream (that loads web streams). */
function isStream(b: BodyValue): b is ReadableStream<Uint8Array> {
  return typeof (b as { getReader?: unknown } | null)?.getReader === "function";
}

function toBytes(b: string | Bytes | ArrayBuffer): Bytes {
  if (typeof b === "string") return encoder.encode(b) as Bytes;
  return b instanceof ArrayBuffer ? new Uint8Array(b) : b;
}

export interface LightRequestInit {
  method?: string;
  headers?: HeadersLike | null;
  body?: BodyValue;
  signal?: AbortSignal | null;
}

const METHODS = new Set(["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH"]);

export class LightRequest extends Body {
  readonly url: string;
  readonly method: string;
  readonly headers: LightHeaders;
  #signal: AbortSignal | null;

  constructor(input: string | URL | LightRequest, init: LightRequestInit = {}) {
    const from = input instanceof LightRequest ? input : null;
    const body = init.body !== undefined ? init.body : (from?.rawBody() ?? null);
    super(body);
    this.url = new URL(from ? from.url : String(input)).href;
    const method = init.method ?? from?.method ?? "GET";
    this.method = METHODS.has(method.toUpperCase()) ? method.toUpperCase() : method;
    this.headers = new LightHeaders(init.headers ?? from?.headers ?? null);
    if (typeof body === "string" && !this.headers.has("content-type")) {
      this.headers.set("content-type", "text/plain;charset=UTF-8");
    }
    this.#signal = init.signal ?? from?.signal ?? null;
  }

  /** Never aborted: a function's request ends with its invocation. */
  get signal(): AbortSignal {
    this.#signal ??= new AbortController().signal;
    return this.#signal;
  }

  clone(): LightRequest {
    return new LightRequest(this);
  }
}

export interface LightResponseInit {
  status?: number;
  statusText?: string;
  headers?: HeadersLike | null;
}

export class LightResponse extends Body {
  readonly status: number;
  readonly statusText: string;
  readonly headers: LightHeaders;
  readonly type = "default";
  readonly redirected = false;
  readonly url = "";

  constructor(body?: BodyValue, init: LightResponseInit = {}) {
    super(body);
    this.status = init.status ?? 200;
    if (!Number.isInteger(this.status) || this.status < 200 || this.status > 599) {
      throw new RangeError(`init["status"] must be in the range of 200 to 599, inclusive.`);
    }
    this.statusText = init.statusText ?? "";
    this.headers = new LightHeaders(init.headers);
    if (typeof body === "string" && !this.headers.has("content-type")) {
      this.headers.set("content-type", "text/plain;charset=UTF-8");
    }
  }

  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  clone(): LightResponse {
    return new LightResponse(this.rawBody(), this);
  }

  static json(data: unknown, init: LightResponseInit = {}): LightResponse {
    const headers = new LightHeaders(init.headers);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
    return new LightResponse(JSON.stringify(data), { ...init, headers });
  }
}

/**
 * Put these in place of Node's Request, Response and Headers in this process. Assigned, never
 * defined: reading or redefining Node's lazy globals would load undici.
 */
export function installLightWebClasses(): void {
  const g = globalThis as Record<string, unknown>;
  g.Headers = LightHeaders;
  g.Request = LightRequest;
  g.Response = LightResponse;
}
