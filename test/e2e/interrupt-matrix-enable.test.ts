/** The interrupt matrix of `tls enable` (ops-request, patch): see interrupt-matrix.ts. */
import { defineMatrix } from './interrupt-matrix.ts';

defineMatrix(['enable-ops', 'enable-patch'], 'interrupt-enable');
