//! Deserializers for lists and maps that stop at their limit: the item past the limit is
//! refused before it is stored, so a hostile file cannot make a reader hold more than the
//! format allows, and the error (through `serde_path_to_error`) names the field. No capacity is
//! reserved from size hints.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// A list of at most `N` items.
struct Bounded<T, const N: usize>(Vec<T>);

impl<'de, T: Deserialize<'de>, const N: usize> Deserialize<'de> for Bounded<T, N> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_seq(SeqVisitor::<T, N>(PhantomData)).map(Bounded)
    }
}

struct SeqVisitor<T, const N: usize>(PhantomData<T>);

impl<'de, T: Deserialize<'de>, const N: usize> Visitor<'de> for SeqVisitor<T, N> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a list of at most {N} items")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            if items.len() == N {
                return Err(serde::de::Error::custom(too_many(N)));
            }
            items.push(item);
        }
        Ok(items)
    }
}

struct MapVisitor<V, const N: usize>(PhantomData<V>);

impl<'de, V: Deserialize<'de>, const N: usize> Visitor<'de> for MapVisitor<V, N> {
    type Value = BTreeMap<String, V>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an object of at most {N} entries")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut entries = BTreeMap::new();
        while let Some(key) = map.next_key::<String>()? {
            if entries.len() == N {
                let _: IgnoredAny = map.next_value()?;
                return Err(serde::de::Error::custom(too_many(N)));
            }
            if entries.contains_key(&key) {
                return Err(serde::de::Error::custom(format!(
                    "duplicate key {}",
                    super::quote::quote(&key)
                )));
            }
            let value = map.next_value()?;
            entries.insert(key, value);
        }
        Ok(entries)
    }
}

/// The message every bounded list or map gives when it is too long; tests look for it.
pub(crate) fn too_many(limit: usize) -> String {
    format!("more than {limit} items (the format's limit)")
}

/// `#[serde(deserialize_with = "bounded::vec::<_, _, N>")]`: a list of at most `N` items.
pub(crate) fn vec<'de, D, T, const N: usize>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Bounded::<T, N>::deserialize(deserializer).map(|bounded| bounded.0)
}

/// `#[serde(default, deserialize_with = "bounded::option_vec::<_, _, N>")]`: an optional
/// list of at most `N` items (`null` or absent is `None`).
pub(crate) fn option_vec<'de, D, T, const N: usize>(
    deserializer: D,
) -> Result<Option<Vec<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<Bounded<T, N>>::deserialize(deserializer).map(|list| list.map(|bounded| bounded.0))
}

/// `#[serde(deserialize_with = "bounded::map::<_, _, N>")]`: an object of at most `N`
/// entries with unique keys, in key order.
pub(crate) fn map<'de, D, V, const N: usize>(
    deserializer: D,
) -> Result<BTreeMap<String, V>, D::Error>
where
    D: Deserializer<'de>,
    V: Deserialize<'de>,
{
    deserializer.deserialize_map(MapVisitor::<V, N>(PhantomData))
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    struct Lists {
        #[serde(deserialize_with = "super::vec::<_, _, 3>")]
        items: Vec<u8>,
        #[serde(default, deserialize_with = "super::option_vec::<_, _, 2>")]
        maybe: Option<Vec<u8>>,
        #[serde(default, deserialize_with = "super::map::<_, _, 2>")]
        map: std::collections::BTreeMap<String, u8>,
    }

    #[test]
    fn lists_and_maps_stop_at_their_limit() {
        let ok: Lists = serde_json::from_str(
            r#"{"items": [1, 2, 3], "maybe": [1, 2], "map": {"a": 1, "b": 2}}"#,
        )
        .unwrap();
        assert_eq!((ok.items.len(), ok.maybe.map(|m| m.len()), ok.map.len()), (3, Some(2), 2));
        let absent: Lists = serde_json::from_str(r#"{"items": []}"#).unwrap();
        assert!(absent.maybe.is_none() && absent.map.is_empty());
        for bad in [
            r#"{"items": [1, 2, 3, 4]}"#,
            r#"{"items": [], "maybe": [1, 2, 3]}"#,
            r#"{"items": [], "map": {"a": 1, "b": 2, "c": 3}}"#,
        ] {
            let error = serde_json::from_str::<Lists>(bad).unwrap_err().to_string();
            assert!(error.contains("more than"), "{bad}: {error}");
        }
        let error =
            serde_json::from_str::<Lists>(r#"{"items": [], "map": {"a": 1, "a": 2}}"#).unwrap_err();
        assert!(error.to_string().contains("duplicate key"), "{error}");
    }
}
