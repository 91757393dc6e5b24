//! Public names of the crate's string enums (rule ids, severities, subject fields, actions,
//! modes): `strum` derives each variant's name and the variant list; `public_names!` adds
//! `as_str` and a `FromStr` whose error lists the valid names ([`parse`]).

/// The list of a string enum's variants (`T::VARIANTS`), in declaration order.
pub use strum::VariantArray;

/// The variant of `T` named `text` (ASCII case-insensitive, surrounding blanks ignored), or an
/// error naming the `kind` of value and listing every valid name.
pub fn parse<T>(kind: &str, text: &str) -> Result<T, String>
where
    T: Copy + Into<&'static str> + VariantArray,
{
    let wanted = text.trim();
    T::VARIANTS
        .iter()
        .copied()
        .find(|v| Into::<&str>::into(*v).eq_ignore_ascii_case(wanted))
        .ok_or_else(|| {
            let names: Vec<&str> = T::VARIANTS.iter().map(|v| (*v).into()).collect();
            format!(
                "unknown {kind} {text:?}; expected one of: {}",
                names.join(", ")
            )
        })
}

/// Adds `as_str` (the strum name) and `FromStr` (through [`parse`]) to a string enum that
/// derives `strum::IntoStaticStr` and `strum::VariantArray`.
macro_rules! public_names {
    ($ty:ty, $kind:literal) => {
        impl $ty {
            /// The public name.
            pub fn as_str(self) -> &'static str {
                self.into()
            }
        }

        impl ::std::str::FromStr for $ty {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $crate::names::parse($kind, s)
            }
        }
    };
}
pub(crate) use public_names;
