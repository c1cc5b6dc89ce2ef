//! Arbitrary text into the catalog loader: a case or an error naming the file, never a panic; and a
//! case that loads keeps the loader's promise that every frame it sends can be encoded.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsspec::catalog::{Action, Catalog, Role};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    match Catalog::from_sources([("fuzz.toml".to_string(), text)]) {
        Ok(catalog) => {
            for case in &catalog.cases {
                for step in &case.steps {
                    if let Action::Frames(frames) = &step.action {
                        for frame in frames {
                            assert_eq!(frame.to_spec(Role::Server).check(), Ok(()), "case {}", case.id);
                        }
                    }
                }
            }
        }
        Err(e) => assert!(e.to_string().starts_with("fuzz.toml"), "{e}"),
    }
});
