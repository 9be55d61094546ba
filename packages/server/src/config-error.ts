/**
 * A gateway option that cannot work as given (a short secret or API key, a JWKS URL over plain
 * HTTP): thrown by `createGateway` before anything starts, with a message that names the option,
 * so a command line can print it as one line.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}
