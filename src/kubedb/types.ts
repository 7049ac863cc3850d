/** The fields of KubeDB, cert-manager and PetSet objects that the plugin reads (DOMAIN.md). */
import type { Condition, KubeObject } from '../kube/objects.ts';

export interface IssuerRef {
  apiGroup?: string;
  kind?: 'Issuer' | 'ClusterIssuer' | string;
  name: string;
}

export interface CertificateSpec {
  alias: string;
  issuerRef?: IssuerRef;
  secretName?: string;
  subject?: { organizations?: string[]; [field: string]: unknown };
  duration?: string;
  renewBefore?: string;
  dnsNames?: string[];
  ipAddresses?: string[];
  uris?: string[];
  emailAddresses?: string[];
  privateKey?: { encoding?: 'PKCS1' | 'PKCS8' };
}

export interface TlsConfig {
  issuerRef?: IssuerRef;
  certificates?: CertificateSpec[];
}

export interface Singlestore extends KubeObject {
  spec?: {
    version?: string;
    topology?: { aggregator?: { replicas?: number }; leaf?: { replicas?: number } };
    replicas?: number;
    tls?: TlsConfig;
    halted?: boolean;
    [field: string]: unknown;
  };
  status?: { phase?: string; conditions?: Condition[]; observedGeneration?: number };
}

export interface OpsRequest extends KubeObject {
  spec: {
    type: 'ReconfigureTLS' | 'Restart' | string;
    databaseRef: { name: string };
    tls?: TlsConfig & { rotateCertificates?: boolean; remove?: boolean };
    restart?: Record<string, never>;
    timeout?: string;
    apply?: 'IfReady' | 'Always';
  };
  status?: { phase?: string; conditions?: Condition[]; observedGeneration?: number };
}

export interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: {
    volumes?: {
      name: string;
      secret?: { secretName: string };
      projected?: { sources: { secret?: { name: string } }[] };
    }[];
    containers?: { name: string; volumeMounts?: { name: string; mountPath: string }[] }[];
    [field: string]: unknown;
  };
}

export interface PetSet extends KubeObject {
  spec: {
    replicas?: number;
    serviceName?: string;
    selector?: { matchLabels?: Record<string, string> };
    template: PodTemplate;
    updateStrategy?: { type?: string; rollingUpdate?: { partition?: number } };
  };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    readyReplicas?: number;
    currentReplicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
    currentRevision?: string;
    updateRevision?: string;
  };
}

export interface Certificate extends KubeObject {
  spec: {
    secretName: string;
    issuerRef: { name: string; kind?: string; group?: string };
    commonName?: string;
    dnsNames?: string[];
    ipAddresses?: string[];
    duration?: string;
    renewBefore?: string;
    [field: string]: unknown;
  };
  status?: {
    conditions?: Condition[];
    notBefore?: string;
    notAfter?: string;
    renewalTime?: string;
    revision?: number;
    lastFailureTime?: string;
    failedIssuanceAttempts?: number;
  };
}

export interface Issuer extends KubeObject {
  spec?: Record<string, unknown>;
  status?: { conditions?: Condition[] };
}

export interface Secret extends KubeObject {
  type?: string;
  data?: Record<string, string>;
}

export interface Pod extends KubeObject {
  spec?: { nodeName?: string; [field: string]: unknown };
  status?: {
    phase?: string;
    startTime?: string;
    conditions?: Condition[];
    containerStatuses?: { name: string; state?: { running?: { startedAt?: string } } }[];
  };
}
