/** Input the emulator refuses; its message is meant for the caller (control API 4xx, CLI errors). */
export class InvalidInput extends Error {
  override name = 'InvalidInput';
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}
