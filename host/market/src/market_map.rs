//! [`MarketMap`]: values kept by market id, for the maps looked up on
//! every update (the cache's markets, each desk's and each simulated
//! exchange's). An update is looked up by its market's id a dozen times
//! on its way through the host; hashing the id each time was 15% of a
//! backtest's engine thread (docs/BENCHMARKS.md). Most updates are of the
//! market the last lookup found (a file holds one market, a live stream
//! sends bursts), so each map remembers where its last hit was and
//! compares the id there before it hashes.

use foldhash::{HashMap, HashMapExt as _};

/// Values by market id, in insertion order (a removal moves the last
/// entry into the gap), with the last hit remembered.
#[derive(Debug, Clone)]
pub struct MarketMap<V> {
    entries: Vec<(String, V)>,
    index: HashMap<String, usize>,
    /// Where the last lookup through `&mut self` found its id (may be
    /// stale: always checked against the entry's id).
    last: usize,
}

impl<V> Default for MarketMap<V> {
    fn default() -> Self {
        MarketMap {
            entries: Vec::new(),
            index: HashMap::new(),
            last: 0,
        }
    }
}

impl<V> MarketMap<V> {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Markets held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// No markets held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Where `id` is: the last hit if it is there, else by hash.
    #[inline]
    fn find(&self, id: &str) -> Option<usize> {
        match self.entries.get(self.last) {
            Some((key, _)) if short_eq(key.as_bytes(), id.as_bytes()) => Some(self.last),
            _ => self.index.get(id).copied(),
        }
    }

    /// Where `id` is, remembered for the next lookup.
    #[inline]
    fn find_and_remember(&mut self, id: &str) -> Option<usize> {
        let at = self.find(id)?;
        self.last = at;
        Some(at)
    }

    /// Whether `id` is held.
    pub fn contains_key(&self, id: &str) -> bool {
        self.find(id).is_some()
    }

    /// The value of `id`.
    pub fn get(&self, id: &str) -> Option<&V> {
        self.find(id).map(|at| &self.entries[at].1)
    }

    /// The value of `id`, to change.
    pub fn get_mut(&mut self, id: &str) -> Option<&mut V> {
        let at = self.find_and_remember(id)?;
        Some(&mut self.entries[at].1)
    }

    /// The value of `id`, made by `make` if it is not held.
    pub fn get_or_insert_with(&mut self, id: &str, make: impl FnOnce() -> V) -> &mut V {
        let at = match self.find_and_remember(id) {
            Some(at) => at,
            None => self.push(id, make()),
        };
        &mut self.entries[at].1
    }

    /// Set `id`'s value; the value it had, if any.
    pub fn insert(&mut self, id: &str, value: V) -> Option<V> {
        match self.find_and_remember(id) {
            Some(at) => Some(std::mem::replace(&mut self.entries[at].1, value)),
            None => {
                self.push(id, value);
                None
            }
        }
    }

    fn push(&mut self, id: &str, value: V) -> usize {
        let at = self.entries.len();
        self.entries.push((id.to_owned(), value));
        self.index.insert(id.to_owned(), at);
        self.last = at;
        at
    }

    /// Take `id` out; its value, if it was held.
    pub fn remove(&mut self, id: &str) -> Option<V> {
        let at = self.index.remove(id)?;
        let (_, value) = self.entries.swap_remove(at);
        if let Some((moved, _)) = self.entries.get(at)
            && let Some(slot) = self.index.get_mut(moved.as_str())
        {
            *slot = at;
        }
        Some(value)
    }

    /// Forget every market.
    pub fn clear(&mut self) {
        self.entries.clear();
        self.index.clear();
    }

    /// Each market's id and value.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.entries.iter().map(|(id, v)| (id.as_str(), v))
    }

    /// Each market's id.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(id, _)| id.as_str())
    }

    /// Each market's value.
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.entries.iter().map(|(_, v)| v)
    }
}

/// `a == b`, without a call to `memcmp` for ids of 8 to 16 bytes (a
/// Betfair market id has 11): two overlapping 8-byte words compared.
#[inline]
pub fn short_eq(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if (8..=16).contains(&n) {
        return a.first_chunk::<8>() == b.first_chunk::<8>()
            && a.last_chunk::<8>() == b.last_chunk::<8>();
    }
    a == b
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use std::collections::BTreeMap;

    /// Random inserts, lookups and removals over a handful of ids agree
    /// with a `BTreeMap` at every step, whichever entry was hit last.
    #[test]
    fn agrees_with_a_plain_map_through_removals() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut ours = MarketMap::new();
        let mut plain = BTreeMap::new();
        for step in 0..20_000u32 {
            let id = format!("1.{}", rng.random_range(0..8));
            match rng.random_range(0..6) {
                0 => assert_eq!(ours.insert(&id, step), plain.insert(id.clone(), step)),
                1 => assert_eq!(ours.remove(&id), plain.remove(&id)),
                2 => {
                    let v = ours.get_or_insert_with(&id, || step);
                    *v += 1;
                    *plain.entry(id.clone()).or_insert(step) += 1;
                }
                3 => {
                    if let Some(v) = ours.get_mut(&id) {
                        *v ^= 1;
                    }
                    if let Some(v) = plain.get_mut(&id) {
                        *v ^= 1;
                    }
                }
                4 => assert_eq!(ours.contains_key(&id), plain.contains_key(&id)),
                _ => assert_eq!(ours.get(&id), plain.get(&id)),
            }
            assert_eq!(ours.len(), plain.len());
        }
        let mut all: Vec<(&str, &u32)> = ours.iter().collect();
        all.sort();
        let expected: Vec<(&str, &u32)> = plain.iter().map(|(k, v)| (k.as_str(), v)).collect();
        assert_eq!(all, expected);
        ours.clear();
        assert!(ours.is_empty() && ours.get("1.1").is_none());
    }

    #[test]
    fn short_eq_is_equality() {
        let ids = [
            "",
            "1.2",
            "1.2345678",
            "1.20606438",
            "1.206064380",
            "1.206064381",
        ];
        let long = [
            "1.2060643801234567",
            "1.2060643801234568",
            "1.20606438012345678",
        ];
        for a in ids.iter().chain(&long) {
            for b in ids.iter().chain(&long) {
                assert_eq!(short_eq(a.as_bytes(), b.as_bytes()), a == b, "{a} {b}");
            }
        }
        // A difference anywhere in an id of 9 to 16 bytes is seen.
        let id = *b"1.2060643801234";
        for n in 8..=id.len() {
            for at in 0..n {
                let mut other = id;
                other[at] ^= 1;
                assert!(!short_eq(&id[..n], &other[..n]), "{n} {at}");
            }
        }
    }

    #[test]
    fn a_removal_keeps_the_moved_entry_findable() {
        let mut map = MarketMap::new();
        for (n, id) in ["1.1", "1.2", "1.3"].into_iter().enumerate() {
            map.insert(id, n);
        }
        // "1.3" moves into the gap "1.1" leaves, and the last hit was there.
        assert_eq!(map.get_mut("1.1").copied(), Some(0));
        assert_eq!(map.remove("1.1"), Some(0));
        assert_eq!(map.get("1.1"), None);
        assert_eq!(map.get("1.3"), Some(&2));
        assert_eq!(map.get_mut("1.2").copied(), Some(1));
        assert_eq!(map.keys().collect::<Vec<_>>(), ["1.3", "1.2"]);
    }
}
