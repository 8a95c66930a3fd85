//! From the stored protobuf attributes to the ParlayREST model the notifications are
//! rendered with.

use parlay_model::presence as m;
use parlay_proto::presence::v1 as pb;

pub fn note_list(n: &pb::NoteList) -> m::NoteList {
    m::NoteList {
        note: n
            .notes
            .iter()
            .map(|n| m::Note {
                text: n.text.clone(),
                lang: n.lang.clone(),
            })
            .collect(),
        resource_url: None,
    }
}

pub fn status_icon(i: &pb::StatusIcon) -> m::StatusIcon {
    m::StatusIcon {
        url: i.url.clone(),
        content_type: i.content_type.clone(),
        etag: i.etag.clone(),
        file_size: i.file_size,
        resolution: i.resolution.clone(),
        resource_url: None,
    }
}

pub fn link_list(l: &pb::LinkList) -> m::LinkList {
    m::LinkList {
        link: l
            .links
            .iter()
            .map(|l| m::FavouriteLink {
                url: l.url.clone(),
                label: l.label.clone(),
            })
            .collect(),
        resource_url: None,
    }
}

pub fn location(l: &pb::Location) -> m::Location {
    m::Location {
        place_name: l.place_name.clone(),
        latitude: l.latitude,
        longitude: l.longitude,
        accuracy: l.accuracy,
        timestamp: l.timestamp.as_ref().map(parlay_kit::wire::time),
        resource_url: None,
    }
}

/// The person part of a contact, `None` when the presentity published nothing.
pub fn person(p: &pb::Person) -> Option<m::Person> {
    let person = m::Person {
        note_list: p.note_list.as_ref().map(note_list),
        status_icon: p.status_icon.as_ref().map(status_icon),
        link_list: p.link_list.as_ref().map(link_list),
        location: p.location.as_ref().map(location),
        overriding_willingness: p.overriding_willingness.as_ref().map(willingness),
    };
    (person != m::Person::default()).then_some(person)
}

pub fn willingness(w: &pb::OverridingWillingness) -> m::OverridingWillingness {
    m::OverridingWillingness {
        basic: w.basic.clone(),
        until: w.until.as_ref().map(parlay_kit::wire::time),
    }
}

pub fn capability(c: &pb::ServiceCapability) -> m::ServiceCapability {
    m::ServiceCapability {
        service_id: c.service_id.clone(),
        version: c.version.clone(),
        status: c.status.clone(),
    }
}
