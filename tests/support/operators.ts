// Operator accounts for tests that start the embedded broker in-process: the
// broker's OperatorDirectory over a plain map (the real store, with scrypt, is
// tested in tests/host/publish/user-store.test.ts and used by every CLI test).
import type { OperatorDirectory } from '../../host/publish/broker.js';

export function memoryOperators(users: Record<string, string>): OperatorDirectory {
  return {
    verify: async (username, password) => Object.hasOwn(users, username) && users[username] === password.toString('utf8'),
    hasOperators: () => Object.keys(users).length > 0,
  };
}
