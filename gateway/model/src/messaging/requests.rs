//! Messaging request bodies: `outboundMessageRequest` and its SMS-only sibling
//! `outboundSMSMessageRequest`, and the inbound `subscription`. Written by the gateway's
//! messaging work.
