// Tests read many JSON bodies of known shape; chai's assertions are the type check there.
declare global {
  interface Response {
    json(): Promise<any>;
  }
}
export {};
