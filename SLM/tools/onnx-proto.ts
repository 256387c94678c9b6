// onnx-proto.ts — the part of ONNX's onnx.proto (IR version 8) that the exporter writes,
// as a protobufjs schema. Field numbers and types are those of the ONNX specification
// (onnx/onnx.proto); messages and fields we never write (training info, sparse tensors,
// functions, sequence/map types) are left out, which protobuf allows: a reader ignores
// nothing it needs, and unknown fields are never produced.
//
// protobufjs does the encoding (varints, packed repeated fields, length-delimited
// submessages); this file only says what the messages are.

import protobuf from 'protobufjs'

const SCHEMA = `
syntax = "proto2";
package onnx;

message AttributeProto {
  enum AttributeType {
    UNDEFINED = 0; FLOAT = 1; INT = 2; STRING = 3; TENSOR = 4; GRAPH = 5;
    FLOATS = 6; INTS = 7; STRINGS = 8; TENSORS = 9; GRAPHS = 10;
  }
  optional string name = 1;
  optional AttributeType type = 20;
  optional float f = 2;
  optional int64 i = 3;
  optional bytes s = 4;
  optional TensorProto t = 5;
  repeated float floats = 7;
  repeated int64 ints = 8;
  repeated bytes strings = 9;
  optional string doc_string = 13;
}

message ValueInfoProto {
  optional string name = 1;
  optional TypeProto type = 2;
  optional string doc_string = 3;
}

message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  optional string name = 3;
  optional string op_type = 4;
  repeated AttributeProto attribute = 5;
  optional string doc_string = 6;
  optional string domain = 7;
}

message ModelProto {
  optional int64 ir_version = 1;
  optional string producer_name = 2;
  optional string producer_version = 3;
  optional string domain = 4;
  optional int64 model_version = 5;
  optional string doc_string = 6;
  optional GraphProto graph = 7;
  repeated OperatorSetIdProto opset_import = 8;
  repeated StringStringEntryProto metadata_props = 14;
}

message StringStringEntryProto {
  optional string key = 1;
  optional string value = 2;
}

message GraphProto {
  repeated NodeProto node = 1;
  optional string name = 2;
  repeated TensorProto initializer = 5;
  optional string doc_string = 10;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
  repeated ValueInfoProto value_info = 13;
}

message TensorProto {
  enum DataType {
    UNDEFINED = 0; FLOAT = 1; UINT8 = 2; INT8 = 3; UINT16 = 4; INT16 = 5; INT32 = 6;
    INT64 = 7; STRING = 8; BOOL = 9; FLOAT16 = 10; DOUBLE = 11; UINT32 = 12; UINT64 = 13;
  }
  repeated int64 dims = 1;
  optional int32 data_type = 2;
  repeated float float_data = 4 [packed = true];
  repeated int32 int32_data = 5 [packed = true];
  repeated int64 int64_data = 7 [packed = true];
  optional string name = 8;
  optional bytes raw_data = 9;
  optional string doc_string = 12;
}

message TensorShapeProto {
  message Dimension {
    oneof value {
      int64 dim_value = 1;
      string dim_param = 2;
    }
    optional string denotation = 3;
  }
  repeated Dimension dim = 1;
}

message TypeProto {
  message Tensor {
    optional int32 elem_type = 1;
    optional TensorShapeProto shape = 2;
  }
  oneof value {
    Tensor tensor_type = 1;
  }
  optional string denotation = 6;
}

message OperatorSetIdProto {
  optional string domain = 1;
  optional int64 version = 2;
}
`

/** TensorProto.DataType values. */
export const DATA_TYPE = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, BOOL: 9, FLOAT16: 10, DOUBLE: 11 } as const

/** AttributeProto.AttributeType values. */
export const ATTR_TYPE = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const

// keepCase: fields keep the snake_case names of onnx.proto (ir_version, op_type, raw_data).
const root = protobuf.parse(SCHEMA, { keepCase: true }).root

/** The ModelProto message type: encode(obj).finish() writes a .onnx file, decode(bytes) reads one. */
export const ModelProto = root.lookupType('onnx.ModelProto')

// The shapes of the plain objects the exporter builds (snake_case, as in onnx.proto).
export interface TensorMsg {
  name: string
  dims: number[]
  data_type: number
  raw_data?: Uint8Array
  int64_data?: number[]
  float_data?: number[]
}
export interface AttributeMsg {
  name: string
  type: number
  f?: number
  i?: number
  s?: Uint8Array
  t?: TensorMsg
  ints?: number[]
  floats?: number[]
}
export interface NodeMsg {
  name: string
  op_type: string
  input: string[]
  output: string[]
  attribute: AttributeMsg[]
}
export interface ValueInfoMsg {
  name: string
  type: { tensor_type: { elem_type: number; shape: { dim: ({ dim_value: number } | { dim_param: string })[] } } }
  doc_string?: string
}
export interface GraphMsg {
  name: string
  node: NodeMsg[]
  initializer: TensorMsg[]
  input: ValueInfoMsg[]
  output: ValueInfoMsg[]
  doc_string?: string
}
export interface ModelMsg {
  ir_version: number
  producer_name: string
  producer_version: string
  doc_string?: string
  graph: GraphMsg
  opset_import: { domain: string; version: number }[]
  metadata_props: { key: string; value: string }[]
}

/** Serialize a model; protobufjs checks field types as it goes. */
export function encodeModel(model: ModelMsg): Uint8Array {
  const err = ModelProto.verify(model)
  if (err) throw new Error(`onnx: the model message is malformed: ${err}`)
  return ModelProto.encode(ModelProto.fromObject(model)).finish()
}

/** Parse a .onnx file back into plain objects (int64 as numbers, bytes as Buffers). */
export function decodeModel(bytes: Uint8Array): ModelMsg {
  return ModelProto.toObject(ModelProto.decode(bytes), { longs: Number, bytes: Buffer, defaults: false, arrays: true }) as unknown as ModelMsg
}
