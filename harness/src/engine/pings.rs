//! wsspec's pings and the target's pongs (RFC 6455 §5.5.2, §5.5.3): which pong answers which ping,
//! and which pongs are unsolicited heartbeats that no case is judged by.
//!
//! A pong with the application data of one of wsspec's unanswered pings answers it (and every
//! older one: "the endpoint MAY elect to send a Pong frame for only the most recently processed
//! Ping frame"). Any other pong is unsolicited: "A Pong frame MAY be sent unsolicited", at any time,
//! so one that comes while a ping is unanswered may be a heartbeat too. It becomes a wrong answer
//! only when the case ends with that ping still unanswered and no expected alternative matched.

use std::collections::VecDeque;

use super::event::Event;
use crate::rules::Violation;

/// Bytes of a stray pong's payload kept for its violation.
const STRAY_PREVIEW: usize = 32;

/// The pings wsspec sent that no pong answered yet, and the first pong that answered none of them.
#[derive(Debug, Default)]
pub(super) struct Pings {
    /// Payloads of the pings wsspec sent that no pong answered yet, oldest first.
    unanswered: VecDeque<Vec<u8>>,
    /// A preview of the first pong that came while pings were unanswered and answered none of them.
    stray: Option<String>,
}

impl Pings {
    /// wsspec sent a ping carrying `payload`.
    pub fn sent(&mut self, payload: Vec<u8>) {
        self.unanswered.push_back(payload);
    }

    /// Whether every ping wsspec sent has been answered.
    pub fn all_answered(&self) -> bool {
        self.unanswered.is_empty()
    }

    /// The event a pong from the target carrying `payload` is: [`Event::Pong`] when it answers an
    /// unanswered ping, else [`Event::UnsolicitedPong`].
    pub fn pong(&mut self, payload: Vec<u8>) -> Event {
        match self.unanswered.iter().position(|p| *p == payload) {
            Some(at) => {
                self.unanswered.drain(..=at);
                Event::Pong(payload)
            }
            None => {
                if !self.unanswered.is_empty() && self.stray.is_none() {
                    self.stray = Some(crate::preview(&payload, STRAY_PREVIEW));
                }
                Event::UnsolicitedPong(payload)
            }
        }
    }

    /// At the end of a case: the wrong answer (§5.5.3) when a pong came while a ping was
    /// unanswered, carried none of its application data, and that ping is still unanswered while
    /// no expected alternative matched (`matched`). Otherwise the pong was a heartbeat: `None`.
    pub fn wrong_answer(&self, matched: bool) -> Option<Violation> {
        let stray = self.stray.as_ref().filter(|_| !matched && !self.unanswered.is_empty())?;
        Some(Violation::PongMismatch { payload: stray.clone() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pong_answers_its_ping_and_every_older_one() {
        let mut pings = Pings::default();
        pings.sent(b"a".to_vec());
        pings.sent(b"b".to_vec());
        assert_eq!(pings.pong(b"b".to_vec()), Event::Pong(b"b".to_vec()), "only the most recent answered (§5.5.3)");
        assert!(pings.all_answered());
        assert_eq!(pings.pong(b"a".to_vec()), Event::UnsolicitedPong(b"a".to_vec()), "a second answer is unsolicited");
        assert_eq!(pings.wrong_answer(false), None, "no ping was unanswered when it came");
    }

    #[test]
    fn a_heartbeat_before_the_answer_is_no_wrong_answer() {
        let mut pings = Pings::default();
        pings.sent(b"ping".to_vec());
        assert_eq!(pings.pong(b"beat".to_vec()), Event::UnsolicitedPong(b"beat".to_vec()));
        assert_eq!(pings.pong(b"ping".to_vec()), Event::Pong(b"ping".to_vec()));
        assert_eq!(pings.wrong_answer(false), None);
    }

    #[test]
    fn a_pong_with_other_data_and_no_right_one_is_a_wrong_answer() {
        let mut pings = Pings::default();
        pings.sent(b"ping".to_vec());
        assert_eq!(pings.pong(b"pong".to_vec()), Event::UnsolicitedPong(b"pong".to_vec()));
        assert_eq!(pings.wrong_answer(false), Some(Violation::PongMismatch { payload: crate::preview(b"pong", STRAY_PREVIEW) }));
        assert_eq!(pings.wrong_answer(true), None, "an alternative that needs no answer matched (the target failed the connection)");
    }
}
