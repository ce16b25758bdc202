/** @nori/security: signed messages that Celery's `auth` serializer signs and verifies. */
export { AUTH_CONTENT_TYPE, authSerializer, registerAuth, type AuthOptions } from './auth-serializer.js';
export { CertStore } from './cert-store.js';
export { Certificate } from './certificate.js';
