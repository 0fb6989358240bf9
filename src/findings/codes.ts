/** Every finding code, as a list (documentation order) and as a type: a misspelt code does not compile. */
import { HOST_CODES } from './codes-host.js';
import { VERIFY_CODES } from './codes-verify.js';
import { WIRE_CODES } from './codes-wire.js';

export const ALL_CODES = [...WIRE_CODES, ...HOST_CODES, ...VERIFY_CODES];

export type FindingCode = (typeof ALL_CODES)[number]['code'];
