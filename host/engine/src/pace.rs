//! [`Pacer`]: when a replayed update is due on the wall clock. At speed 1
//! updates come as far apart as they were published, at speed 10 ten times
//! closer, and at speed 0 as fast as the engine takes them.

use std::time::{Duration, Instant};

use clever_sdk::Timestamp;

/// Maps publish times onto the wall clock at a speed.
#[derive(Debug)]
pub struct Pacer {
    speed: f64,
    /// A wall instant and the publish time it stands for.
    anchor: Option<(Instant, Timestamp)>,
    last: Timestamp,
}

impl Pacer {
    /// A pacer at `speed` (0 = no waiting). Negative speeds count as 0.
    pub fn new(speed: f64) -> Self {
        Pacer {
            speed: if speed.is_finite() {
                speed.max(0.0)
            } else {
                0.0
            },
            anchor: None,
            last: Timestamp(i64::MIN),
        }
    }

    /// When the update published at `t` is due; `None` if now. Time going
    /// backwards (the next file of a replay starts earlier) re-anchors:
    /// that update is due at once and the pace carries on from it.
    pub fn due(&mut self, t: Timestamp) -> Option<Instant> {
        if self.speed == 0.0 {
            return None;
        }
        let back = t < self.last;
        self.last = t;
        match self.anchor {
            Some((wall, at)) if !back => {
                let ms = (t.0 - at.0) as f64 / self.speed;
                Some(wall + Duration::from_secs_f64(ms.max(0.0) / 1000.0))
            }
            _ => {
                self.anchor = Some((Instant::now(), t));
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speed_zero_never_waits() {
        let mut p = Pacer::new(0.0);
        assert_eq!(p.due(Timestamp(0)), None);
        assert_eq!(p.due(Timestamp(60_000)), None);
    }

    #[test]
    fn updates_are_due_at_their_spacing_divided_by_the_speed() {
        let mut p = Pacer::new(10.0);
        assert_eq!(p.due(Timestamp(1_000)), None);
        let (wall, _) = p.anchor.expect("anchored");
        assert_eq!(
            p.due(Timestamp(3_000)),
            Some(wall + Duration::from_millis(200))
        );
        // The next file starts earlier: due now, and paced from there.
        assert_eq!(p.due(Timestamp(500)), None);
        let (wall, _) = p.anchor.expect("re-anchored");
        assert_eq!(
            p.due(Timestamp(1_500)),
            Some(wall + Duration::from_millis(100))
        );
    }
}
