/** oidc-provider ships no type declarations; the tests use it through this loose one. */
declare module 'oidc-provider' {
  const Provider: any;
  export default Provider;
}
