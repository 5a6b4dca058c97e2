// Dispatch's error codes live in the one registry (common/error-codes.ts); this is the shape the
// pure state machine returns instead of throwing.
import { DISPATCH_ERRORS } from '../../common/error-codes.js';

export { DISPATCH_ERRORS };
export type DispatchErrorCode = keyof typeof DISPATCH_ERRORS;

export interface DispatchError {
  code: DispatchErrorCode;
  messageZh: string;
  messageEn: string;
  detail?: string;
}
