// signing.ts — action records authenticated with a team key (HMAC-SHA256).
//
// Whoever can write to a shared cache can otherwise put bytes into every build that reads
// it: blobs are checked against their names, but a record says which blob is which output,
// and nothing checked who wrote the record. With `[cache] sign_key_env = "NAME"` every
// action record auton writes (local cache/ac.log and the remote /ac/) carries
//
//   sig = "hmac-sha256:" + hex(HMAC-SHA256(key, "auton action record v1\n" + canonical(record)))
//
// where canonical(record) is the record without `sig` as JSON with sorted object keys
// (key.ts canonicalJSON): its key, every output's path, kind, hash and blobs (rel, sha256,
// exec bit), the discovered inputs and their hashes, the run time, and any field a later
// version adds. A reader with the key refuses a record whose signature is missing or does
// not verify (compared in constant time); a reader without a key trusts records as before.
//
// Invariants:
//   - the key lives only in this process's memory: it never enters a record, a log, a
//     build key or an error message (messages name the variable, never its value);
//   - auton signs only what it produced or verified itself: a record read without
//     verification is never re-signed (a build without a key never signs anything).

import { createHmac, timingSafeEqual } from 'node:crypto'
import { canonicalJSON } from './key.js'
import type { AutonConfig } from './config.js'

const DOMAIN = 'auton action record v1\n'
const PREFIX = 'hmac-sha256:'

/** The bytes a signature covers: everything the record asserts except the signature itself. */
export function signingBytes(rec: object): Buffer {
  const { sig: _sig, ...rest } = rec as { sig?: unknown }
  return Buffer.from(DOMAIN + canonicalJSON(rest), 'utf8')
}

function mac(rec: object, key: Buffer): Buffer {
  return createHmac('sha256', key).update(signingBytes(rec)).digest()
}

/** A copy of rec signed with key (any previous signature is replaced). */
export function signRecord<T extends object>(rec: T, key: Buffer): T & { sig: string } {
  const { sig: _old, ...rest } = rec as T & { sig?: string }
  return { ...(rest as T), sig: PREFIX + mac(rest, key).toString('hex') }
}

/** 'ok', or why the record's signature does not vouch for it (for a warning). */
export function verifyRecord(rec: object, key: Buffer): 'ok' | string {
  const sig = (rec as { sig?: unknown }).sig
  if (sig === undefined) return 'it is not signed'
  if (typeof sig !== 'string' || !sig.startsWith(PREFIX) || !/^[0-9a-f]{64}$/.test(sig.slice(PREFIX.length))) {
    return 'its signature is malformed'
  }
  const got = Buffer.from(sig.slice(PREFIX.length), 'hex')
  const want = mac(rec, key)
  return timingSafeEqual(got, want) ? 'ok' : 'its signature does not verify (altered or forged, or signed with another key)'
}

export interface SigningKey {
  /** The variable [cache] sign_key_env names, if any. */
  env?: string
  /** Its value as HMAC key; undefined when no variable is configured or it is unset. */
  key?: Buffer
}

/** The team key from the variable named by [cache] sign_key_env. */
export function signingKey(cfg: AutonConfig, env: NodeJS.ProcessEnv = process.env): SigningKey {
  const name = cfg.cache.sign_key_env
  if (!name) return {}
  const value = env[name]
  return { env: name, key: value ? Buffer.from(value, 'utf8') : undefined }
}
