// Web-standard globals available on Node, Lambda and Workers alike; declared here so that the
// pure core compiles without Node or DOM typings.
declare class TextDecoder {
  constructor(label?: string);
  decode(input?: Uint8Array): string;
}
