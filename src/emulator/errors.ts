/** Input the emulator refuses; its message is meant for the caller (control API 4xx, CLI errors). */
export class InvalidInput extends Error {
  /** Always `'InvalidInput'`. */
  override name = 'InvalidInput';
  constructor(
    message: string,
    /** The HTTP status to answer with. Default 400. */
    readonly status = 400,
  ) {
    super(message);
  }
}
