/**
 * `spotauth/testing`: the store contract suite, for authors of their own token store. The suite itself
 * lands with the store extension points; until then this entry point exports nothing.
 *
 * @packageDocumentation
 */
export {};
