/** The interrupt matrix of `tls disable` (ops-request, patch): see interrupt-matrix.ts. */
import { defineMatrix } from './interrupt-matrix.ts';

defineMatrix(['disable-ops', 'disable-patch'], 'interrupt-disable');
