//! Arbitrary text into the catalog loader: a catalog or an error that names the file, never a panic
//! or an abort, whatever sizes, ids, families and frames the text declares.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsspec::catalog::Catalog;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    if let Err(e) = Catalog::from_sources([("fuzz.toml".to_string(), text)]) {
        assert!(e.to_string().starts_with("fuzz.toml"), "{e}");
    }
});
