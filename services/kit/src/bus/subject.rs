//! NATS subject matching: `*` matches one token, a trailing `>` matches one or more.

/// Does `subject` fall under `filter`?
pub fn matches(filter: &str, subject: &str) -> bool {
    let mut subject_tokens = subject.split('.');
    let mut filter_tokens = filter.split('.').peekable();
    while let Some(f) = filter_tokens.next() {
        if f == ">" && filter_tokens.peek().is_none() {
            return subject_tokens.next().is_some();
        }
        match subject_tokens.next() {
            Some(s) if f == "*" || f == s => {}
            _ => return false,
        }
    }
    subject_tokens.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn wildcards() {
        assert!(matches("net.evt.call.>", "net.evt.call.leg"));
        assert!(matches("net.evt.call.>", "net.evt.call.leg.x"));
        assert!(!matches("net.evt.call.>", "net.evt.call"));
        assert!(matches("net.*.call.leg", "net.cmd.call.leg"));
        assert!(!matches("net.*.call", "net.cmd.call.leg"));
        assert!(matches("notify.job", "notify.job"));
        assert!(!matches("notify.job", "notify.jobs"));
    }
}
