/** Who the API server says the caller is: a SelfSubjectReview, as `kubectl auth whoami` makes. */
import type { KubeClient } from './client.ts';

export interface UserInfo {
  username?: string;
  uid?: string;
  groups?: string[];
}

interface SelfSubjectReview {
  status?: { userInfo?: UserInfo };
}

export async function whoAmI(client: KubeClient): Promise<UserInfo> {
  const review = await client.createRaw<SelfSubjectReview>(
    '/apis/authentication.k8s.io/v1/selfsubjectreviews',
    { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
    'create selfsubjectreviews.authentication.k8s.io',
  );
  return review.status?.userInfo ?? {};
}
