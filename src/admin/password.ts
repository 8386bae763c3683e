/**
 * The admin password's hash: argon2id with OWASP's first recommended setting (19 MiB, 2 passes,
 * 1 lane) instead of Bun's default 64 MiB: a Pi 3 has 1 GiB, and every login check holds that
 * memory for a moment. A hash made with other settings (an older box) still verifies: they are
 * written in the hash.
 */
export const ARGON2 = { algorithm: "argon2id", memoryCost: 19_456, timeCost: 2 } as const;

export const hashPassword = (password: string): Promise<string> => Bun.password.hash(password, ARGON2);
