//! Writing TZif files: the inverse of [`super::tzif::parse`], used to build
//! test zones and to check that reading loses nothing.

use super::tzif::TzifData;

/// Appends one header with the given version and counts.
fn header(out: &mut Vec<u8>, version: u8, counts: [usize; 6]) {
    out.extend_from_slice(b"TZif");
    out.push(version);
    out.extend_from_slice(&[0; 15]);
    for c in counts {
        let c = i32::try_from(c).unwrap_or(i32::MAX);
        out.extend_from_slice(&c.to_be_bytes());
    }
}

/// Appends one data block; `wide` selects 64-bit times. With 32-bit times,
/// transitions and leap seconds outside the 32-bit range are left out.
fn block(out: &mut Vec<u8>, data: &TzifData, version: u8, wide: bool) {
    let fits = |t: i64| wide || i32::try_from(t).is_ok();
    let transitions: Vec<(i64, u8)> = data
        .transitions
        .iter()
        .zip(&data.transition_types)
        .filter(|(t, _)| fits(**t))
        .map(|(t, ty)| (*t, *ty))
        .collect();
    let leaps: Vec<_> = data
        .leap_seconds
        .iter()
        .filter(|l| fits(l.occurrence))
        .collect();
    let n_types = data.types.len();
    header(
        out,
        version,
        [
            n_types,
            n_types,
            leaps.len(),
            transitions.len(),
            n_types,
            data.abbreviation_chars.len(),
        ],
    );
    let put_time = |out: &mut Vec<u8>, t: i64| {
        if wide {
            out.extend_from_slice(&t.to_be_bytes());
        } else {
            out.extend_from_slice(&(t as i32).to_be_bytes());
        }
    };
    for &(t, _) in &transitions {
        put_time(out, t);
    }
    out.extend(transitions.iter().map(|&(_, ty)| ty));
    for t in &data.types {
        out.extend_from_slice(&t.utoff.to_be_bytes());
        out.push(u8::from(t.isdst));
        out.push(t.abbr_index);
    }
    out.extend_from_slice(&data.abbreviation_chars);
    for l in leaps {
        put_time(out, l.occurrence);
        out.extend_from_slice(&l.correction.to_be_bytes());
    }
    out.extend(data.types.iter().map(|t| u8::from(t.is_std)));
    out.extend(data.types.iter().map(|t| u8::from(t.is_ut)));
}

/// Encodes `data` as a TZif file of its version: a version 1 file holds
/// only the 32-bit block; later versions hold both blocks and the footer.
pub fn encode(data: &TzifData) -> Vec<u8> {
    let mut out = Vec::new();
    block(&mut out, data, data.version, false);
    if data.version != 0 {
        block(&mut out, data, data.version, true);
        out.push(b'\n');
        if let Some(footer) = &data.footer {
            out.extend_from_slice(footer);
        }
        out.push(b'\n');
    }
    out
}
