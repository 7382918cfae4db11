//! [`Technique`]: the kinds of data an atlas can hold for a unit. Coverage, sprite sheets and
//! the counts `verify` and `inspect` print are all per technique.

use std::fmt;

use super::image_header::ImageContent;

/// One kind of per-unit data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Technique {
    /// Feature visualization of the channel (the mean over positions).
    Channel,
    /// Feature visualization of the neuron at the centre position.
    Neuron,
    /// Feature visualization minimising the channel.
    Negative,
    /// Diverse feature visualizations of the channel (typically 4).
    Diversity,
    /// Top and bottom dataset examples with activations and crop boxes.
    DatasetExamples,
    /// Histogram of the unit's activations over the photo corpus.
    Histogram,
    /// ImageNet classes the unit drives most through the network.
    TopClasses,
    /// Strongest weights from the previous layer and to the next.
    Circuits,
}

impl Technique {
    /// Every technique, in the order reports list them.
    pub const ALL: [Self; 8] = [
        Self::Channel,
        Self::Neuron,
        Self::Negative,
        Self::Diversity,
        Self::DatasetExamples,
        Self::Histogram,
        Self::TopClasses,
        Self::Circuits,
    ];

    /// The techniques with a thumbnail in a layer's sprite sheets.
    pub const THUMBNAILS: [Self; 5] =
        [Self::Channel, Self::Neuron, Self::Negative, Self::Diversity, Self::DatasetExamples];

    /// The name used in manifests and file names (`dataset_examples`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Channel => "channel",
            Self::Neuron => "neuron",
            Self::Negative => "negative",
            Self::Diversity => "diversity",
            Self::DatasetExamples => "dataset_examples",
            Self::Histogram => "histogram",
            Self::TopClasses => "top_classes",
            Self::Circuits => "circuits",
        }
    }

    /// The technique of a name, if known.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|technique| technique.as_str() == name)
    }

    /// Whether layers have sprite sheets of it.
    pub fn has_thumbnails(self) -> bool {
        Self::THUMBNAILS.contains(&self)
    }

    /// What its images show: crops of photos for dataset examples, generated pictures for
    /// the rest (which decides the formats they may be stored in).
    pub fn image_content(self) -> ImageContent {
        match self {
            Self::DatasetExamples => ImageContent::Photographic,
            _ => ImageContent::Generated,
        }
    }
}

impl fmt::Display for Technique {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_valid_file_names() {
        for technique in Technique::ALL {
            assert_eq!(Technique::from_name(technique.as_str()), Some(technique));
            assert!(crate::atlas::Name::new(technique.as_str()).is_ok());
        }
        assert_eq!(Technique::from_name("deepdream"), None);
    }
}
